"""Keyword rules for the intents that are not a payment decision.

Each table is a compiled regex over normalised text (see `flows.intent_text`). The order in
which `flows.intents` consults them is the precedence; it is documented there, not here.
"""

from __future__ import annotations

import re

from flows.intent_lexicon import NEGATORS


def _words(*alternatives: str) -> re.Pattern[str]:
    # "(?=[a-z0-9])": only word starts are tried, not word ends (a third faster, same matches).
    return re.compile(r"\b(?=[a-z0-9])(?:" + "|".join(alternatives) + r")\b")


_POLITE = (
    r"(?:s il vous plait|s il te plait|please|merci|thanks|thank you|sms|messages?|texts?|now|"
    r"maintenant|immediatement|all|tout|por favor|ok)"
)

# --- OPT_OUT -----------------------------------------------------------------------------
# Legal: STOP must never be missed (LEGAL_FR 2.2, PROVIDERS T13/T14, TESTCASES 38). "stop" is an
# opt-out anywhere in a message: a false opt-out costs one confirmation message, a missed one
# costs a CNIL complaint. CANCEL / END / QUIT / REVOKE (Twilio's English keywords) are opt-outs
# only as the whole message (optionally with "please", "sms"...): inside a sentence "cancel my
# order" is a dispute and "end of the month" is a date.
#: Checked against each clause: a concatenated SMS ("Payer plus tard" + "CANCEL") arrives as one
#: text with the keyword alone in its own clause.
OPT_OUT_WHOLE = re.compile(
    rf"^(?:(?:{_POLITE}|oui|yes|non|no|bon|alors|donc) )*(?:cancel|end|quit|revoke|optout|"
    rf"stopall|st[o0]pp?|arret|arrete|arretez|arreter|arrett|baja)(?: {_POLITE})*$"
)
OPT_OUT = _words(
    r"stop",
    r"stopall",
    r"stop all",
    r"optout",
    r"opt out",
    r"opt me out",
    r"unsubscribe\w*",
    r"des?abonn\w*",
    r"des?inscri\w*",
    r"desincri\w*",
    r"spam\w*",
    r"deregister",
    r"^arr?ete?\w*",
    r"arr?et\w* (?:de|d|les|vos|ces|tes|ce|cette|avec|tout|immediatement|svp|"
    r"s il|ca|votre|ton|le spam|la pub)",
    r"(?:cessez|cesse|cesser|stoppez|stopper|stoppe) (?:de|d|les|vos|ces|tes|tout)",
    r"ne (?:m|me|nous) (?:ecri|envoy|envoi|contact|harcel|relanc|spam|texto|derang|sollicit|"
    r"appel|rappel|ennuy|embet)\w*(?: \w+){0,2} plus",
    r"ne (?:m|me|nous) (?:ecri|envoy|envoi|contact|harcel|relanc|spam|texto|derang|sollicit|"
    r"appel|rappel)\w* (?:pas|jamais)(?: (?:de|d) (?:sms|messages?|textos?|pubs?|publicites?|"
    r"relances?|spams?|notifications?))?(?: (?:s il vous plait|s il te plait|merci))?$",
    r"ne plus (?:m|me|nous) (?:ecrire|envoyer|contacter|deranger|relancer|harceler|appeler|"
    r"solliciter|spammer|textoter)",
    r"(?:ne )?plus (?:recevoir|etre (?:contacte|contactee|sollicite|sollicitee|relance|"
    r"relancee|derange|derangee))",
    r"plus (?:de|d) (?:vos |tes |ces )?(?:sms|messages?|textos?|pubs?|publicites?|relances?|"
    r"spams?|notifications?)",
    r"laiss(?:e|ez) moi (?:tranquille|en paix)",
    r"fich(?:e|ez) moi la paix",
    r"fout(?:e|ez) moi la paix",
    r"lach(?:e|ez) moi",
    r"(?:retire|retirez|supprime|supprimez|enleve|enlevez|efface|effacez|raye|rayez)r? "
    r"(?:moi|mon numero|mes coordonnees|mon contact)",
    r"leave me alone",
    r"leave me be",
    r"(?:dont|do not|never|quit|stop) (?:text|txt|messag|msg|contact|email|sms|spam|call|"
    r"bother|write|ping|harass)\w*(?: me| us)",
    r"(?:dont|do not) send (?:me )?(?:any ?more|more|messages|texts|sms)",
    r"no more (?:texts?|messages?|sms|spam|msgs?|txts?)",
    r"(?:remove|delete) (?:me|my number|my details)",
    r"take me (?:off|out)",
    r"take me off",
    r"lose my number",
    r"(?:text|message|contact)\w* me (?:no more|any ?more)",
    r"darme de baja",
    r"dar(?:me)? de baja",
    r"no me (?:escrib|envi|mand|contact|llam)\w* mas",
    r"dejen de (?:escribir|enviar|mandar|contactar)\w*",
    r"no quiero (?:recibir )?mas (?:mensajes|sms)",
)

# --- OPT_IN ------------------------------------------------------------------------------
OPT_IN_WHOLE = re.compile(
    rf"^(?:(?:yes|oui|ok) )?(?:start|unstop|restart|resume|subscribe|resubscribe|"
    rf"reabonner)(?: (?:again|sms|messages|emojiyes|emojismile|{_POLITE}))*$"
)
OPT_IN = _words(
    r"unstop",
    r"re ?subscribe\w*",
    r"re ?abonn\w*",
    r"re ?inscri\w*",
    r"opt (?:me )?(?:back )?in",
    r"optin",
    r"recevoir (?:a|de) nouveau(?:$| (?:les|vos|des|tes) (?:sms|messages|textos|notifications))",
    r"(?:a|de) nouveau recevoir",
    r"receive (?:your |the )?(?:texts|messages|sms) again",
    r"receive again",
    r"start (?:again|sms|messages|texts|texting)",
    r"reactiv\w* (?:les |mes |vos )?(?:sms|messages|notifications)",
    r"(?:send|text) me (?:texts |messages )?again",
    r"vous pouvez (?:me )?(?:recontacter|reecrire)",
    r"you can (?:text|message) me again",
)

# --- DISPUTE -----------------------------------------------------------------------------
_OBJECT = (
    r"(?:commande|colis|produit|article|marchandise|service|prestation|livraison|order|"
    r"package|parcel|item|goods|delivery|pedido|paquete)"
)
DISPUTE = _words(
    r"pas moi",
    r"not me",
    r"wasnt me",
    r"was not me",
    r"no fui yo",
    r"no es mio",
    # Not "j'ai jamais demandé l'arrêt des messages" (a stop taken back).
    r"(?:jamais|pas|rien)(?: \w+){0,2} (?:commande|achete|demande|signe|souscrit)(?:e|es|s)?"
    r"(?! (?:l |d |de |la |le |un |a )?(?:arret|stop|desinscri|desabonn))",
    r"(?:never|didnt|did not|havent|have not)(?: \w+){0,2} (?:ordered|order|bought|buy|"
    r"purchased|purchase|signed|sign|asked for|ask for|agreed)",
    r"(?:nunca|no)(?: \w+){0,2} (?:pedi|compre|ordene)",
    rf"(?:jamais|pas|rien|never|didnt|did not|havent|have not|nunca)(?: \w+){{0,2}} "
    rf"(?:recu|eu|receive|received|got|get|recibi)(?: (?:ma|la|mon|le|les|mes|my|the|any|mi|el|"
    rf"de|d))? {_OBJECT}",
    rf"{_OBJECT}(?: \w+){{0,3}} (?:jamais|pas|never|not|no) (?:recu|arrive|arrivee|livre|livree|"
    rf"received|arrived|delivered|llego)",
    r"(?:montant|prix|somme|total|tarif|facture|amount|price|charge|bill|invoice|importe|monto)"
    r"(?: \w+){0,3} (?:faux|fausse|errone|erronee|incorrect|incorrecte|pas bon|pas bonne|"
    r"pas correct|pas correcte|pas juste|trop (?:eleve|elevee|haut|cher|chere|important)|"
    r"exagere|abusif|bizarre|wrong|too high|incorrecto|mal|pas le bon|pas la bonne)",
    r"(?:mauvais|mauvaise|faux|fausse|wrong|incorrect|erroneous)(?: \w+)? (?:montant|prix|"
    r"total|amount|price|invoice|bill|facture|charge|person|personne|numero|number)",
    r"(?:ne )?correspond (?:pas|a rien)",
    r"doesnt match",
    r"pas d accord (?:avec|sur) (?:le|la|ce|cette|votre|vos|les) (?:montant|facture|prix|somme|"
    r"total|tarif|devis)",
    r"(?:dont|do not) agree with (?:the|this|your) (?:amount|invoice|bill|"
    r"price|charge)",
    r"(?:erreur|error|mistake|erreurs)(?: \w+){0,2} (?:facture|montant|prix|commande|invoice|"
    r"bill|amount|charge|facturation|billing|factura)",
    r"(?:facture|invoice|bill|montant|amount|factura)(?: \w+){0,3} (?:erreur|error|mistake)",
    r"(?:il y a|y a|there s|there is|c est|this is|it s|ca doit etre|doit y avoir|must be|"
    r"there must be|there might be|il y aurait) (?:une |an |a )?"
    r"(?:erreur|error|mistake)(?! (?:de|lors du|au moment du|technique) paiement)",
    r"arnaque\w*",
    r"escroc\w*",
    r"escroqu\w*",
    r"scam\w*",
    r"fraud\w*",
    r"fraude\w*",
    r"voleurs?",
    r"thie(?:f|ves)",
    r"estafa\w*",
    r"phishing",
    r"hameconnage",
    r"c est du vol",
    r"(?:je |i )?conteste\w*",
    r"contester",
    r"contestation",
    r"litige",
    r"reclamation",
    # "je refuse de payer en plusieurs fois" refuses a way of paying, not the invoice.
    r"refuse de (?:payer|regler)(?! (?:en|in|plus tard|later|par)\b)",
    r"refuse to pay(?! (?:in|later|by)\b)",
    r"dispute\w*",
    r"contest",
    r"chargeback",
    r"reclamo",
    r"reclamacion",
    r"no acepto",
    r"rembourse(?:z|r)? (?:moi|nous)",
    # "j'attends un remboursement de la CAF": the customer's own money to come, not a claim.
    r"(?<!attends un )(?<!attend un )(?<!attente d un )(?<!attendre un )remboursement\w*"
    r"(?! (?:de|d|du|des) (?:la caf|caf|l etat|la secu|secu|mutuelle|ma mutuelle|la mutuelle|"
    r"impots|l assurance|mon assurance|la banque|ma banque))",
    r"(?:me|nous|etre) rembourse\w*",
    r"doublon",
    r"duplicate (?:invoice|bill|charge|payment)",
    r"deja factur\w*",
    r"already (?:billed|charged|invoiced)",
    # "waiting for a refund" (from someone else) is a reason to pay later, as in French.
    r"(?<!awaiting a )(?<!waiting for a )(?<!waiting on a )(?<!waiting for my )(?<!expecting a )"
    r"refund\w*",
    r"(?<!espero un )(?<!esperando un )reembolso",
    r"money back",
    r"(?:double|doublon) (?:facturation|paiement|prelevement|debit|charge)",
    # Not "je vais pas payer deux fois" (told after a payment: already paid), nor "payé 2 fois
    # sur 3" (two instalments of three: a count, not a double charge).
    r"(?:facture|factures|preleve|prelevee|debite|debitee|paye(?!r)|charged|billed|paid|cobrado)\w*"
    r" (?:deux|2|two|dos) (?:fois|times|veces)(?! (?:sur|out of|de) \w+)",
    r"twice",
    r"en double",
    r"double charged",
    r"charged twice",
    r"annul\w* (?:ma|la|cette|mon|le|cet|votre) (?:commande|achat|facture|reservation|"
    r"abonnement|contrat)",
    r"cancel\w* (?:my|the|this|that) (?:order|purchase|invoice|booking|subscription|bill)",
    r"pourquoi (?:je dois|dois je|devrais je|je devrais|cette facture|ce montant|c est si cher|"
    r"je paierais|payer)",
    r"why (?:do|should|would|must) i (?:have to )?pay",
    r"why am i (?:being )?(?:charged|billed)",
    r"what (?:is|s) this (?:charge|bill|invoice)",
    r"c est quoi (?:ce|cette) (?:montant|prelevement|debit|facture)",
    r"je (?:ne )?(?:vous )?dois rien",
    r"i owe (?:you )?nothing",
    r"i dont owe",
    r"i do not owe",
    r"(?<!plus )rien a (?:payer|regler)",
    r"nothing to pay",
    r"(?:je )?n ai pas a (?:payer|regler)",
    r"pas a moi de payer",
    r"trop cher",
    r"too expensive",
    r"way too much",
    r"abusif",
    r"abusive",
    r"jamais entendu parler",
    r"never heard of",
    r"connais pas (?:cette|ce|votre|cet) (?:entreprise|societe|boite|magasin|commerce|"
    r"marchand|numero|nom|personne)",
    r"je (?:ne )?vous connais pas",
    r"i dont know (?:you|this company|who you are)",
    r"(?:ne )?reconnais pas",
    r"dont recogni[sz]e",
    r"do not recogni[sz]e",
    r"(?:n ai|j ai|ai) (?:jamais )?rien recu",
    r"(?:never|didnt|did not) (?:get|receive) "
    r"anything",
    r"pas (?:ma|mon) (?:facture|commande|achat)",
    r"not my (?:invoice|bill|order|purchase)",
    r"(?:ne|n) (?:me )?concerne pas",
    r"me concerne pas",
    r"not for me",
    r"wrong (?:person|number|customer|guy|address)",
    r"mauvais numero",
    r"mauvaise personne",
    r"vous vous (?:trompez|etes trompe\w*)",
    r"erreur de (?:personne|numero|destinataire)",
    r"you have the wrong",
    r"this isnt (?:me|mine)",
    r"not mine",
    r"pas (?:la|le) mien\w*",
    r"service (?:pas|non|jamais) (?:fait|rendu|effectue)",
    r"travail (?:pas|mal|non) (?:fait|"
    r"termine|fini)",
    r"work (?:not done|wasnt done|never done|not finished)",
    r"pas ce (?:qu on|que nous|que vous|que j) (?:avait|avions|aviez|avais) (?:dit|convenu|prevu|"
    r"signe|accepte)",
    r"not what (?:we|you) (?:agreed|said|quoted)",
    r"(?:travail|prestation|service|job|work|chantier|reparation)(?: \w+){0,3} (?:pas|jamais|"
    r"never|not) (?:ete )?(?:fait|faite|termine|terminee|fini|finie|done|finished|completed)",
    r"pas satisfait\w*",
    r"not satisfied",
    r"defectueu\w*",
    r"abime\w*",
    r"damaged",
    r"pas conforme",
    r"not as described",
    r"jamais livre\w*",
    r"never delivered",
)
#: Dispute words that a preceding negation cancels ("je ne conteste pas la facture, mais...").
DISPUTE_NEGATABLE = _words(r"conteste\w*", r"dispute\w*", r"contest", r"arnaque\w*", r"scam\w*")

# --- ALREADY_PAID ------------------------------------------------------------------------
# "quand j'aurai ma paye": after a determiner, "paye"/"paie" is a salary, not "paid".
_PAID_FR = (
    r"(?:(?<!ma )(?<!ta )(?<!sa )(?<!la )(?<!une )(?<!de )(?<!votre )(?<!notre )(?<!leur )"
    r"paye|payee|payes|payees|regle|reglee|vire|verse|fait le virement|"
    r"fait un virement|fait le paiement|fait le reglement|envoye (?:le |l |un |mon )?(?:virement|"
    r"paiement|cheque|argent|reglement))"
)
ALREADY_PAID = _words(
    rf"(?:j ai|j|ai|on a|nous avons|je l ai|il a|elle a|ils ont|a ete|avons|avez|"
    rf"(?:femme|mari|fils|fille|mere|pere|compagne|compagnon|conjoint|conjointe) a)"
    # "j'ai été payé hier": a salary received ("été" after "j'ai"), not the invoice paid.
    rf"(?: (?!ete\b)\w+){{0,2}} {_PAID_FR}",
    r"deja (?:ete )?(?:paye|payee|regle|reglee|fait|effectue|vire|envoye|solde|soldee|verse|"
    r"pagado|pague)",
    r"(?:c|ca|tout|facture|elle|la facture|c etait|ma facture|le solde|compte)(?: est| a ete| "
    r"etait)?(?: deja| bien| tout| bel et bien)? (?:paye|payee|regle|reglee|solde|soldee)",
    r"(?<!comme ca )(?<!comme ca c )c est fait",
    r"^c (?:deja )?fait",
    r"already (?:sorted|dealt with|taken care of)",
    r"(?:avez|as|a) (?:vous |t on )?(?:bien )?recu (?:mon|le|notre|ma) "
    r"(?:paiement|virement|cheque|reglement)",
    r"(?:get|got|receive|received) (?:my|our|the) (?:payment|transfer|money|cheque|check)",
    r"(?:recu|preuve|justificatif|confirmation) de (?:paiement|virement)",
    r"proof of (?:payment|transfer)",
    r"(?:i ve got|i have|ive got) the receipt",
    r"(?:it|money|payment|the money) (?:went|came|has gone|has come) out",
    r"(?:left|came out of|taken from) my (?:account|bank)",
    r"\w+ (?:vous |nous |l |les )?(?:a|ont) (?:deja |bien )?(?:fait (?:le|un|mon|son|leur) "
    r"(?:virement|paiement|reglement|cheque)|paye|regle|vire)\b",
    r"c est bon c est regle",
    r"(?:j ai|ai|g)(?: deja| bien| tout)* payer",
    r"(?:vous|t|te|l) (?:ai|a|avons|ont)(?: deja| bien| tout)* (?:paye|payee|regle|reglee|vire|"
    r"verse|envoye)",
    r"(?<!ai ete )(?<!je )(?<!on )(?<!tu )(?<!il )(?<!vous )(?<!ma )(?<!ta )(?<!sa )(?<!la )"
    r"(?:paye|payee|regle|reglee|vire) (?:hier|"
    r"avant hier|ce matin|cette nuit|ce midi|tout a l heure|la semaine derniere|le mois dernier|"
    r"deja|il y a|en ligne|par virement|par cheque|par paypal|depuis)",
    # "vrement", "virmeent", "viremnt": the word is misspelt as often as it is written.
    r"(?:virement|vi?r(?:e|ee)?m+e*n?t|prelevement|cheque|paiement|paiment|payement|reglement|regl?ement|"
    r"transfer|bank transfer|payment|wire|transferencia|"
    r"pago)(?: \w+){0,2} (?:fait|effectue|envoye|parti|passe|emis|realise|valide|sent|done|made|"
    r"went out|gone out|has gone|cleared|on its way|left|debite|"
    r"completed|complete|gone through|went through|en cours|hecho|realizado|enviado|efectuado|"
    r"execute)",
    r"(?<!get )(?<!gets )(?<!getting )(?<!got )(?<!be )(?<!m )(?<!am )(?<!are )(?<!when )"
    r"(?<!get this )(?<!get it )(?<!get that )(?<!have i )(?<!did i )(?<!have we )"
    # "would it be ok if I paid on the 3rd": a hypothetical payment is still to come.
    r"(?<!if i )(?<!if we )(?<!once i )(?<!soon as i )paid",
    r"already (?:done|settled|sent|made|did|transferred)",
    r"settled (?:it|already|the|this|that|up|everything|in full)",
    r"i (?:sent|made|did|transferred|wired) (?:the|a|my) (?:payment|transfer|bank transfer|"
    r"wire)",
    r"(?:sent|transferred|wired) (?:you )?(?:the |my )?(?:money|funds|payment)",
    r"i settled (?:it|the bill|the invoice|up)",
    r"ya (?:lo |la )?(?:he )?(?:pague|pagado|pagada|transferi)",
    r"(?:ya )?esta pagad[oa]",
    r"pague (?:ayer|hoy|esta manana)",
    r"pagad[oa] (?:ayer|hoy|esta manana|el \w+|por|con|ya)",
    # Told by what was done rather than by "paid": a cheque sent, the link used, someone saw to it.
    r"(?:depose|donne|remis) (?:un |le |mon )?cheque",
    r"c est parti (?:ce matin|hier|deja|tout a l heure|cette nuit|avant hier)",
    r"handed (?:\w+ ){0,2}(?:a|the|my) (?:cheque|check)",
    r"went through (?:this morning|yesterday|earlier|last night|already)",
    r"(?:card|account) (?:was|has been|got) (?:charged|debited)"
    r"(?! (?:twice|two times|again|double))",
    r"(?:payment|money) (?:was|has been|got) (?:taken|debited|collected)",
    r"(?:carte|compte) (?:a ete|est|a) (?:debite|debitee|preleve|prelevee)",
    r"taken out of my (?:account|bank)",
    # Unaccented, but only a past reading makes sense: "paye par ma mere", "ya paye".
    r"(?:paye|payee|regle|reglee) par (?:ma|mon|mes|le|la) (?:mere|pere|mari|femme|fils|fille|"
    r"frere|soeur|copain|copine|conjoint|conjointe|comptable|patron|entreprise|employeur|banque)",
    r"^ya (?:deja )?(?:paye|payee|regle|reglee|vire)",
    r"(?:ya lo pago|ya la pago) (?:mi|tu|su) (?:marido|mujer|esposa|esposo|hijo|hija|madre|padre|"
    r"pareja)",
    r"(?:mi|su|tu) (?:marido|mujer|esposa|esposo|hijo|hija|madre|padre|pareja) ya "
    r"(?:lo |la )?pago",
    r"(?:direct debit|debit|standing order)(?: \w+)? (?:went out|has gone out|was taken|came out|"
    r"went through)",
    r"(?:cheque|check) (?:s |is |was |has been )?(?:in the post|posted|sent)",
    r"(?<!je )(?<!on )(?<!tu )(?<!vous )(?:fait|regle|paye)(?: \w+){0,2} (?:par|via|avec|sur) "
    r"(?:le|votre) lien",
    r"^(?:c est )?fait (?:ce matin|hier|avant hier|tout a l heure|cette nuit|deja)",
    r"(?:s en est|s en sont|m en suis|nous en sommes)(?: deja)? (?:occupe|charge)\w*",
    r"argent (?:est |a ete )?(?:parti|sorti|debite|preleve)",
    r"(?:sent|posted|mailed|dropped off|dropped|gave) (?:you |off |in )?(?:a|the|my) "
    r"(?:cheque|check)",
    r"(?:done|did) it (?:already )?(?:via|through|by|on|with) (?:the|your) "
    r"(?:link|website|site|app)",
    r"(?:done|did) it (?:already )?(?:this morning|yesterday|earlier|last night)",
    r"sorted (?:it|this|that)(?: out)? (?:yesterday|this morning|last week|earlier|already)",
)

# --- ASK_AGENT ---------------------------------------------------------------------------
ASK_AGENT = _words(
    r"conseill?(?:er|ere|ier|e)s?",
    r"un conseil",
    r"humaine?s?",
    r"human",
    r"etre humain",
    r"vraie? personne",
    r"personne (?:reelle|physique|en chair)",
    r"real (?:person|human|people)",
    r"actual (?:person|human)",
    r"live (?:agent|person|chat)",
    r"agents?",
    r"operat(?:eur|rice|or)",
    r"representative",
    r"service client",
    r"customer (?:service|support|care)",
    r"support",
    r"sav",
    r"hotline",
    r"(?:le|un|au|the|a) (?:responsable|manager|gerant|patron|boss|owner|"
    r"proprietaire|commercial)",
    r"manager",
    r"parler (?:a|avec) (?:quelqu un|une personne|un vrai|une vraie|vous|quelqu|un|une|qui)",
    r"(?:talk|speak|chat) (?:to|with) (?:someone|somebody|a person|a human|an agent|a real|"
    r"you|anyone|a manager|the manager|the owner|a rep)",
    r"(?:appelez|appelle|appellez|appeler|rappelez|rappelle|rappeler|telephonez|contactez)"
    r" (?:moi|me)",
    r"(?<!je )(?<!j )m (?:appeler|rappeler|appellez|appelez|rappelez|telephoner|contacter)",
    # "me rappeler le montant" asks to be reminded of something, not to be called.
    r"me (?:rappeler|appeler|contacter|telephoner)(?! (?:le|la|les|l|ce|cette|mon|ma|mes|quel|"
    r"quelle|combien|quand|a quelle|de quoi|ou))",
    r"call me",
    r"ring me",
    r"phone me",
    r"give me a call",
    r"can (?:you|someone|somebody) call",
    r"(?:quelqu un|anyone|anybody)"
    r" (?:est )?(?:la|there)",
    r"y a quelqu un",
    r"is anyone there",
    r"par telephone",
    r"au telephone",
    r"by phone",
    r"on the phone",
    r"un numero (?:de telephone)?"
    r" pour (?:vous )?(?:appeler|joindre)",
    r"hablar con (?:alguien|una persona|un agente)",
    r"llam(?:ame|eme|enme)",
    r"asesor",
    r"agente",
    r"persona real",
    r"humano",
    r"robot",
    r"un bot",
    r"a bot",
    r"etre rappele\w*",
    r"be called back",
    r"rappel telephonique",
)

# --- STATUS ------------------------------------------------------------------------------
STATUS = _words(
    r"(?<!en )combien(?! de fois)",
    r"il (?:me |nous )?reste (?:combien|quoi|a payer|a regler)",
    r"reste a (?:payer|regler)",
    r"restant",
    r"quel est (?:mon|le) solde",
    r"^(?:mon |le |votre |quel )?solde$",
    r"(?:voir|connaitre|consulter|savoir) (?:mon|le) solde",
    r"ou en (?:est|suis|sommes|sont)",
    r"^(?:le |quel )?montant(?: total| exact| du)?(?: s il vous plait| s il te plait| please)?$",
    r"ou j en suis",
    r"(?:etat|statut|status) (?:de|du|d|of)",
    r"^(?:status|statut|etat)$",
    r"montant (?:restant|du|total|a payer|exact)",
    r"quel (?:est )?(?:le )?montant",
    r"prochaine? (?:echeance|paiement|prelevement|mensualite|versement|date)",
    r"quand (?:est|sera|tombe|aura lieu|arrive|a lieu) (?:le|la|mon|ma) prochaine?",
    r"quand (?:est ce que )?(?:je )?(?:dois|vais|devrai|serai|dois je)(?: je)? (?:payer|"
    r"etre preleve|regler)",
    r"(?:payer|regler) (?:avant|jusqu a) quand",
    r"avant quelle date",
    r"jusqu a quand",
    r"when (?:do|should|must) i (?:have to )?pay",
    # "c'est quand ?" about the invoice, not "c'est quand les soldes ?".
    r"c est quand(?= \||$)",
    r"c est quand (?:la|le|l|ma|mon) (?:prochaine?|echeance|prelevement|paiement|date|facture|"
    r"versement|mensualite)",
    r"date limite",
    r"date d echeance",
    r"deadline",
    r"due date",
    r"when is (?:it|this|the (?:invoice|payment|bill)|my (?:next )?payment) due",
    r"how much",
    r"what do i owe",
    r"what i owe",
    r"(?:what s|what is|check|see|know|tell me)"
    r" (?:my |the )?(?:balance|remaining|outstanding|status)",
    r"^(?:my |the )?(?:balance|"
    r"remaining balance|outstanding balance|status)$",
    r"amount due",
    r"left to pay",
    r"next (?:payment|installment|due|debit)",
    r"when (?:is|s) (?:my|the) next",
    r"where (?:are|is) (?:my|the|we) (?:invoice|payment|bill|order)",
    r"ou (?:est|sont) (?:ma|mon|la|le|mes) (?:facture|paiement|dossier)",
    r"what s left",
    r"what is left",
    r"cuanto",
    r"saldo",
    r"proximo pago",
)

# --- HELP --------------------------------------------------------------------------------
#: Problems with paying: these come before the payment decision ("carte refusée, je paie
#: comment ?" is a help request, not a payment).
HELP_PROBLEM = _words(
    r"lien(?: \w+){0,3} (?:ne )?(?:marche|fonctionne|passe|s ouvre|ouvre|charge)(?: \w+)? pas",
    r"(?:pas|jamais) (?:recu|eu|trouve) (?:le|de|mon|du|un|votre) lien",
    r"ou (?:est|se trouve) le lien",
    r"(?:vois|trouve) pas (?:le|de|votre) lien",
    r"(?:cant|can not|could not|couldnt) (?:find|see|open) (?:the|a|your) link",
    r"(?:un|des|mon|gros) probleme",
    r"probleme (?:avec|de|sur|pour|au niveau du?) (?:le |la |"
    r"mon |ma )?(?:paiement|lien|carte|cb|virement|site)",
    r"(?:a|any|some) problem",
    r"problem with (?:the|my) (?:payment|link|card|site)",
    r"link(?: \w+){0,3} (?:doesnt|does not|isnt|is not|wont|not) (?:work|open|load|working)",
    r"(?:didnt|did not|havent|never) (?:get|got|receive|received) (?:the|a|any|my) link",
    r"broken link",
    r"(?:paiement|payment|carte|card|cb|virement)(?: \w+){0,3} (?:refuse|refusee|declined|"
    r"rejected|rejete|rejetee|bloque|bloquee|echoue|failed|fail|passe pas|marche pas|"
    r"fonctionne pas|doesnt work|didnt work|didnt go through|wont go through)",
    r"(?:ca|c|it|site|page|appli|application|app)(?: \w+){0,2} (?:ne )?(?:marche|fonctionne)"
    r" pas",
    r"(?:it|the site|the page|the app) (?:doesnt|does not|isnt|is not) work\w*",
    r"bug\w*",
    r"beug\w*",
    r"erreur (?:de|lors du|au moment du|technique) paiement",
    r"payment error",
    r"error message",
    r"message d erreur",
    r"3d ?secure",
    r"code (?:sms|de securite|de validation|de confirmation) (?:pas|jamais)",
    # Asking what something means comes before acting on it.
    r"(?:ca|cela) veut dire quoi",
    r"que veut dire",
    r"qu est ce que (?:ca|cela) veut dire",
    r"what does (?:\w+ ){1,6}mean",
    r"explique[sz]? moi",
    r"explain (?:to me )?(?:how|what)",
)
#: Questions about how it works. "comment payer ?" (help + a bare pay verb) is help too.
HELP = _words(
    r"(?<!besoin d )(?<!pas d )aide",
    r"aidez moi",
    r"aider",
    r"help",
    r"(?<!pour l )(?<!pour les )(?<!for the )infos?",
    r"informations?",
    r"comment (?:ca|c|cela) (?:marche|fonctionne)",
    r"(?:payer|regler|faire|paie|paye|proceder|pay) comment",
    r"^comment$",
    r"comment (?:faire|on fait|je fais|fait on|proceder|je dois faire|je peux|ca se passe|"
    r"payer|regler|je paie|je paye|on paie|on paye)",
    r"je (?:ne )?comprends? (?:pas|rien)",
    r"j ai (?:pas|rien) compris",
    r"pas compris",
    r"quelles? (?:sont )?(?:les |mes )?(?:options|choix|possibilites|solutions)",
    r"quels (?:sont )?(?:les |mes )?(?:choix|moyens)",
    r"que (?:dois je|puis je|faire|peut on)",
    r"qu est ce que (?:je (?:dois|peux)|c est)",
    r"je fais comment",
    r"c est quoi",
    r"c quoi",
    r"what (?:are|s|is) (?:my|the) options",
    r"options?",
    r"menu",
    r"how (?:does|do) (?:it|this|that) work",
    r"how do i",
    r"how can i",
    r"how to",
    r"what can i (?:do|say|type|reply)",
    r"what (?:should|do|must) i do",
    r"i (?:dont|do not) (?:understand|get it)",
    r"what is this",
    r"what s this",
    r"what do you mean",
    r"que veut dire",
    r"ca veut dire quoi",
    r"qui (?:etes|est) vous",
    r"who (?:is this|are you)",
    r"ayuda",
    r"no entiendo",
    r"como funciona",
    r"sos",
    r"explique\w*",
    r"explain",
)

# --- YES / NO / SMALLTALK --------------------------------------------------------------------
NO = _words(
    r"non",
    r"no",
    r"nope",
    r"nah",
    r"nein",
    r"jamais",
    r"never",
    r"emojino",
    r"neg",
    r"non merci",
    r"no thanks",
    r"no gracias",
    r"je refuse",
    r"i refuse",
    r"refuse",
    r"negatif",
    r"negative",
    r"pas interesse\w*",
    r"not interested",
    r"m interesse pas",
    r"laisse\w* tomber",
    r"forget it",
    r"annul\w*",
    r"pas d accord",
    r"pas ok",
    r"not ok",
    r"no quiero",
    r"je (?:ne )?veux pas",
    r"i (?:dont|do not) want",
    r"dont think so",
    r"pas envie",
    r"pas la peine",
    r"no need",
    r"pas besoin",
    r"n accepte pas",
    r"(?:dont|do not) accept",
    r"je decline",
    r"i decline",
    r"(?:dont|do not) agree",
    r"disagree",
)
YES = _words(
    r"oui",
    r"ouais",
    r"yes",
    r"yep",
    r"yup",
    r"yeah",
    r"yah",
    r"sure",
    r"ok",
    r"d accord",
    r"entendu",
    r"parfait",
    r"tres bien",
    r"muy bien",
    r"ca marche",
    r"ca me va",
    r"c est bon",
    r"c est ok",
    r"vas y",
    r"allez y",
    r"go",
    r"lets go",
    r"let s go",
    r"absolument",
    r"bien sur",
    r"volontiers",
    r"avec plaisir",
    r"je confirme",
    r"confirme\w*",
    r"confirm\w*",
    r"valide\w*",
    r"exact\w*",
    r"tout a fait",
    r"carrement",
    r"of course",
    r"alright",
    r"all right",
    r"fine",
    r"agreed",
    r"deal",
    r"sounds good",
    r"claro",
    r"vale",
    r"de acuerdo",
    r"emojiyes",
    r"super",
    r"top",
    r"nickel",
    r"genial",
    r"great",
    r"perfect",
    r"cool",
    r"absolutely",
    r"definitely",
    r"affirmatif",
    r"certainement",
    r"evidemment",
    r"why not",
    r"pourquoi pas",
    r"correct",
    r"^si(?: si)*$",
    r"okay",
    r"yes please",
    r"can do",
    r"d acc",
    r"pas de (?:souci|soucis|probleme)",
    r"no (?:problem|problemo|prob|worries)",
    r"sin problema",
)
SMALLTALK = _words(
    r"merci\w*",
    r"bonjour",
    r"bonsoir",
    r"salut",
    r"coucou",
    r"hello",
    r"hi",
    r"hey",
    r"hola",
    r"thanks",
    r"thank you",
    r"cheers",
    r"gracias",
    r"buenos dias",
    r"buenas",
    r"bonne (?:journee|soiree|nuit|semaine|fin de journee|fin de semaine|continuation|"
    r"annee|fete)",
    r"bon (?:week end|weekend|apres midi|dimanche)",
    r"have a (?:nice|good|"
    r"great) \w+",
    r"a bientot",
    r"au revoir",
    r"bye",
    r"goodbye",
    r"ciao",
    r"adios",
    r"ca va",
    r"comment allez vous",
    r"how are you",
    r"lol",
    r"mdr",
    r"haha\w*",
    r"hehe\w*",
    r"emojismile",
    r"bisous?",
    r"bises?",
    r"cordialement",
    r"regards",
    r"good (?:morning|"
    r"evening|night|afternoon)",
    r"morning",
    r"wesh",
    r"kiss",
    r"de rien",
    r"you re welcome",
    r"welcome",
    r"a plus",
    r"bonne",
    r"felicitations",
)


_AFTER_NEGATORS = frozenset({"pas", "plus", "jamais", "rien", "not", "yet"})


def is_negated(text: str, start: int, end: int) -> bool:
    """Whether the match at ``text[start:end]`` is negated.

    True when a negator is among the three words before it or inside it ("j'ai pas payé"), or
    when a French "ne" before it is closed by "pas"/"plus"/"jamais" after it ("je ne conteste
    pas").
    """
    before = text[:start].rsplit("|", 1)[-1].split()[-3:]
    inside = text[start:end].split()
    if any(word in NEGATORS for word in (*before, *inside)):
        return True
    # "je ne conteste absolument pas": an adverb may sit between the verb and "pas".
    after = [w for w in text[end:].split(maxsplit=3)[:3] if w not in _INTENSIFIERS][:1]
    closes = bool(after) and after[0] in _AFTER_NEGATORS
    return closes and any(word in ("ne", "n") for word in (*before, *inside))


_INTENSIFIERS = frozenset(
    {"absolument", "vraiment", "nullement", "aucunement", "evidemment", "bien", "surement"}
)
