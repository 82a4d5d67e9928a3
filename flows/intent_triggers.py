"""Payment trigger phrases for `flows.intent_payment` (split, pay now, pay later...).

Regexes over normalised text (`flows.intent_text`). Which trigger means what, and how a
negation changes it, is documented in `flows.intent_payment`.
"""

from __future__ import annotations

import re

from flows.intent_calendar import CARDINALS

NUMBERS = CARDINALS
#: A word start: regexes try word starts only, not word ends (faster, same matches).
_WS = r"\b(?=[a-z0-9])"
_N = r"(?P<n>\d{1,3}|" + "|".join(sorted(NUMBERS, key=len, reverse=True)) + r")"
_NOT_TEMPORAL = r"(?! ?(?:que|qu)\b)"
_NOT_UNIT = (
    r"(?! ?(?:jours?|j|semaines?|sem|days?|weeks?|heures?|h|minutes?|min|hours?|euros?|eur|"
    r"e|dollars?|months?|ans?|years?)\b)(?! ?\d)"
)
_PAY_VERB = r"(?:pay\w*|paie\w*|paye\w*|regler|pagar|split\w*|divis\w*|fractionner|echelonner)"

#: Words that prefer a count to the one proposed ("je préférerais 4", "I'd rather 6"): in an
#: option named and in a count corrected (`flows.intent_payment`).
PREFERRING = r"je prefererais|je prefere|je preferais|i d prefer|i d rather|prefiero|preferiria"

SPLIT_NUMBERED = (
    re.compile(
        _WS + rf"(?:en|sur|qu en|(?:payer|regler|faire) que) {_N} ?(?:fois|x|versements?|"
        r"mensualites?|echeances?|mois|meses|"
        rf"parties|tranches?|paiements?|prelevements?|traites?|cuotas?|plazos?|pagos?|veces)\b"
        + _NOT_TEMPORAL
    ),
    re.compile(
        _WS + rf"(?:in|into) {_N} (?:installments?|payments?|parts|monthly payments?|goes|chunks|"
        rf"(?:monthly )?bits|times|pieces)\b"
    ),
    # "can I split it across 3 months?", "over the next three months": only after paying or
    # splitting.
    re.compile(
        rf"\b(?:over|(?:split|splitting|spread|spreading|pay|paying)(?: \w+){{0,3}} "
        rf"(?:across|over the next)) {_N} "
        r"(?:months|payments|installments)\b"
    ),
    # "un paiement par mois pendant 3 mois": the months are the instalments.
    re.compile(
        r"\b(?:par mois|chaque mois|tous les mois|a month|per month|each month|every month|"
        rf"monthly|al mes|cada mes) (?:pendant|sur|durant|for|over|durante) {_N} "
        r"(?:mois|months|meses)\b"
    ),
    re.compile(
        rf"\b{_N} ?(?:fois sans frais|x sans frais|versements?|mensualites?|echeances?|traites?|"
        rf"tranches?|installments?|monthly payments?|cuotas?|plazos?|mensualidades?|"
        rf"prelevements?|ways|payments|paiements|pagos)\b"
    ),
    re.compile(r"\b(?P<n>\d{1,2}) ?x\b"),
    re.compile(r"\bx ?(?P<n>\d{1,2})\b"),
    re.compile(
        _WS + rf"(?:je peux |peux |on peut |can i |could i )?(?:faire|do) {_N} ?(?:fois|x|times)\b"
    ),
    # "je vous fais 3 fois 70 €", "je peux faire 4 virements de 50 ?", "I'll send 3 cheques":
    # the customer offering a number of payments by a means.
    re.compile(
        r"\b(?:je (?:vous )?(?:peux |pourrais |vais |prefere )?(?:vous )?|"
        r"on (?:vous )?(?:peut )?(?:vous )?|"
        r"(?:can|could|shall) (?:i|we) |i ll |i will |i can |we ll )"
        rf"(?:faire|fais|ferai|ferais|do|send|write|make) (?:you )?{_N} ?"
        r"(?:fois|times|virements?|cheques?|checks?|transfers?)\b"
    ),
    re.compile(
        r"^(?:(?:ok|oui|yes|alors|bon|donc|finalement|plutot|je prends|je choisis|choix|option|"
        r"payer|pay|paye|paie|regler|je veux|je voudrais|i want|i ll take|let s do|lets do|"
        r"go for|je vais|s il vous plait|s il te plait|please|je paie|je paye|i ll pay|i will pay|"
        # "je prends l'option 3 fois", "je choisis le paiement 3 fois": the option named.
        r"je voulais|i wanted|i meant|queria|l|le|la|the|paiement|payment|formule|"
        # "vous proposez 3 mais je préfèrerais 4 fois": the count preferred.
        rf"mais|but|{PREFERRING}|"
        rf"pagar|en|sur) )*{_N} (?:fois|times|veces)\b" + _NOT_TEMPORAL
    ),
    re.compile(
        rf"\b{_PAY_VERB}(?: (?:it|this|that|the (?:payment|bill|invoice|amount)|le paiement|"
        rf"la facture|le montant|la somme|ca|le tout|moi))* (?:en|in|into|by) {_N}\b{_NOT_UNIT}"
    ),
    re.compile(_WS + rf"(?:split\w*|divis\w*|couper) (?:it |this |that )?{_N}\b{_NOT_UNIT}"),
    # "Can I split the summer camp in 3?": the thing split named between the verb and the count.
    re.compile(
        rf"\b(?:split\w*|divis\w*|spread\w*|etaler|echelonner|fractionner) (?:the|le|la|les|l|"
        rf"my|mon|ma|mes|this|ce|cette|ces|our|notre|nos) (?:\w+ ){{1,3}}?(?:en|in|into|sur) "
        rf"{_N}\b{_NOT_UNIT}"
    ),
    # "Dividido en 3 por favor", "fraccionarlo en 4".
    re.compile(_WS + rf"(?:divid\w*|partir\w*|fraccion\w*) (?:lo |la )?en {_N}\b{_NOT_UNIT}"),
)
#: A piece that is only "en 4" / "in 3" / "finalement 3 ça ira" (a correction).
SPLIT_BARE = re.compile(
    rf"^(?:(?:(?:non|no|mais|but|plutot|rather|more like|make it|disons|say|finalement|"
    rf"actually|en fait|in fact|serieux|serieusement|seriously|sinon|otherwise|attendez|attends|"
    rf"wait|ah|oh) )+"
    rf"(?:(?:en|in|sur) )?|"
    rf"(?:en|in|sur) ){_N}(?: (?:fois|x|times|veces))?"
    r"(?: (?:ca ira largement|ca suffira largement|"
    r"ca ira|ca ira mieux|c est mieux|c mieux|ce sera mieux|ca sera mieux|ca suffira|ok|"
    r"please|ca m arrange|"
    r"ce sera bien|ca sera bien|ca ira bien|c est bien|ca me va|ca m ira|that s fine|"
    r"s il vous plait|s il te plait|then|instead|plutot|a la place|en vez|mejor|"
    r"is enough|will do|is fine|is better|would be better|works better|ca suffit|ca suffira|"
    r"c est assez|es suficiente|basta|"
    r"si possible|si c est possible|if possible|si ca change rien|si ca vous va|si vous voulez|"
    # "non en 2 ce sera plus simple à suivre": why the count is better.
    r"(?:ce sera|ca sera|c est|c|it s|it ll be|will be) (?:\w+ ){0,2}"
    r"(?:simple|simples|facile|mieux|easier|simpler|better)(?: \w+){0,3})"
    r"(?: pour moi| pour nous| for me| for us|"
    # "non en 2 ça ira pour le séjour": what the payments are for.
    r" (?:pour|for) (?:le|la|les|l|mon|ma|mes|notre|nos|the|my|our) "
    r"(?!(?:factures?|bills?|invoices?|montants?|amounts?|totals?|frais|fees?|mois|semaine|"
    r"fin|debut|month|week|end|moment|instant|lundi|mardi|mercredi|jeudi|vendredi|samedi|"
    r"dimanche|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b)"
    r"(?:[a-z]+ ){0,3}[a-z]+)?)?$"
)
#: "je paie maintenant au lieu d'attendre la fin du mois": the rest of the clause is rejected.
REJECTED = re.compile(
    _WS
    + r"(?:plutot que|plutot qu|rather than|instead of|au lieu de|au lieu d|en lieu et place de|"
    r"en vez de|en lugar de|"
    # "je préfère payer maintenant que d'attendre la fin du mois": the wait turned down.
    r"(?:plutot )?que (?:d |de )(?:attendre|patienter)|"
    # "je préfère payer maintenant que d'y repenser lundi": thinking of it again put off.
    r"(?<=maintenant )(?:plutot )?que (?:d |de )(?:y |le |la )?(?:repenser|penser|reflechir|"
    r"oublier|trainer|m en occuper|m en soucier|revenir)|"
    r"than (?:wait|waiting|delay|delaying|hold off|holding off|put it off|putting it off)|"
    # "I'd rather pay the full amount now than do the instalments": the plan turned down.
    r"than (?:do|doing|go|going|have|having|split|splitting|spread|spreading|pay|paying)"
    r"(?: (?:it|the|with|in|by|for|for the|through|via))* (?:instal\w*|installments?|payments?|"
    r"split|plan|monthly|parts|bits))\b.*$"
)
HALF = re.compile(
    _WS + r"(?:(?:la )?(?:moitie|mitad) (?:maintenant|now|ahora|hoy|tout de suite)|half now|"
    r"half (?:and|&) half|moitie moitie|(?:en )?deux moities|in (?:two )?halves|two halves|"
    r"(?:en )?dos mitades)\b"
)
SPLIT_VAGUE = re.compile(
    _WS + r"(?:en plusieurs fois|plusieurs (?:fois|versements|mensualites|echeances|paiements|"
    r"prelevements)|en plusieurs|echelonn\w*|etaler|etale|etalement|fractionn\w*|mensualis\w*|"
    r"facilites? de paiement|en combien de fois|combien de fois|split\w*|installments?|"
    r"(?:in )?several (?:payments|installments|times|parts)|spread (?:the |it |this |that )?"
    r"(?:cost|payments?|bill|out|over)|"
    # "spread the Cubs annual fee over the year": the thing spread named before its noun.
    r"spread (?:the|my|our|this|that) (?:\w+ ){0,3}?"
    r"(?:costs?|fees?|payments?|bill|amount|balance)\b|"
    r"(?:en|par|des) mensualites|(?:en|par) (?:versements|echeances|prelevements)|"
    r"payment plans?|installment plans?|instalment plans?|in parts|partial payments?|echeancier|"
    r"pay in parts|paiements? partiels?|"
    # "paiement mensuel possible ?": paying by the month, not a monthly subscription named.
    r"paiements? mensuels?|(?:payer|regler|paie|paye|payez|reglez) mensuellement|"
    r"pagar mensualmente"
    r"|a plazos|en cuotas|en varias veces|en varios pagos|petit a petit|petits? (?:paiements|"
    r"versements)|un peu chaque mois|(?<!de )chaque mois|tous les mois|par mois|per month|"
    r"each month|(?:\d+|so much) a month|(?:a bit|a little|something|some) (?:each|every) week|"
    r"(?:un peu|quelque chose) (?:chaque|toutes les) semaines?|"
    r"every month|monthly|a little at a time|bit by bit|en (?:\d|deux|trois|quatre) ou "
    r"(?:\d|deux|trois|quatre) fois)\b"
)
ONE_GO = re.compile(
    _WS + r"(?:(?:en|in) (?:une|un|1|one) (?:seule )?(?:fois|x|versement|paiement|payment|go|shot|"
    r"installment)|une seule fois|comptant|en totalite|en entier|integralement|in full|"
    r"all at once|in one go|the (?:full|whole) (?:amount|thing|link|bill|balance)|"
    r"(?:le|un) lien (?:du|pour le|de la|pour la) (?:total|montant total|totalite|somme totale)|"
    r"en un solo pago|de una vez|"
    r"tout d un coup|en une fois|1 ?x|x ?1|tout payer|tout regler|tout solder d un coup|"
    r"pay (?:it )?all|la totalite)\b"
)
NOW = re.compile(
    _WS + r"(?:maintenant|tout de suite|de suite|immediatement|direct|directement|aujourd hui|"
    r"right now|right away|now|immediately|asap|today|straight away|ahora(?: mismo)?|"
    r"(?<=pagar )ya|(?<=pagarlo )ya|(?<=pagarla )ya|ya mismo|"  # "quiero pagarlo ya"
    r"enseguida|hoy|des maintenant|illico|sur le champ|par carte(?: bancaire| bleue)?|par cb|"
    # "j'ai pas de lien": the link missing, not "not now".
    r"avec (?:ma )?(?:carte|cb)|by card|with (?:my )?card|(?<!pas de )(?<!aucun )(?<!no )lien|"
    r"link|enlace|checkout|"
    r"pour l instant|"
    r"pour le moment|get (?:this|it|that) (?:paid|settled|sorted)|"
    # "was going to wait till friday but might as well get it done": the wait given up.
    r"might as well (?:just )?(?:get it (?:done|over with)|do it|pay)|"
    # "was going to wait till Friday but let's just get it done": the same, closing its clause.
    r"let s (?:just )?get it (?:done|over with)$|"
    r"en ce moment|for now|at the moment|por ahora|cette fois|send it (?:over|through|across)|"
    r"(?:envoyez|envoie|balancez)(?: le| moi ca| ca)?$|"
    # "je peux payer de mon tel là": "là" closing a sentence about paying is "right now".
    r"(?:payer|paie|paye|regler|regle)(?: \w+){0,4}(?<!\bde)(?<!\ba)(?<!\bpar)(?<!\bpour)"
    r"(?<!\bsur)(?<!\bavec)(?<!payer)(?<!paie)(?<!paye)(?<!regler)(?<!regle)"
    r"(?<!moment)(?<!jour)(?<!date)(?<!fois)(?<!heure)(?<!semaine)(?<!soir)(?<!mois)(?<!matin)"
    r"(?<!instant)(?<!periode) la$)\b"
)
PAY = re.compile(
    _WS + r"(?:payer|paye|payes|payez|payons|paie|paies|paient|regler|reglez|je regle|"
    # "pay day is Monday": the day money comes in, no one paying.
    r"pay(?! (?:day|days|slip|slips|rise)\b)|paying|"
    r"pagar|pago|paiement|payment|virement|transfer|bank transfer|regle|settle|emojipay|"
    # "je peux verser le solde avant Noël ?": paying a balance or a deposit.
    r"verser|versez|je verse|je vous verse|"
    # "can I sort the florist bill next week?": sorting a bill out is paying it.
    r"sort (?:out )?(?:the|this|that|my|your|our) (?:\w+ ){0,2}"
    r"(?:bill|invoice|balance|lessons?|sessions?|class|classes|fees?)|"
    # "I want to clear today's bill": clearing what is owed is paying it.
    r"clear (?:off )?(?:(?:the|this|that|my|your|our) |today s )(?:\w+ ){0,2}"
    r"(?:bill|invoice|balance|debt)\b(?! off\b)|clear what i owe|"
    r"sort you out|"
    # "I'm away from Friday so let's just get it done now": the bill got done is paid.
    r"let s (?:just )?(?:get|sort) (?:it|this|that)(?: done| sorted| over with| paid)?"
    r"(?= (?:now|today|right now|straight away)\b)|"
    # "je m'occupe de la facture lundi": taking the bill in hand is paying it.
    r"(?:m|nous) occup\w* (?:de|du) (?:la |ma |votre |le |mon |l )?"
    r"(?:facture|note|reglement|solde)|"
    r"deal with (?:the|this|my|your) (?:\w+ )?(?:bill|invoice))\b"
)
FUTURE_PAY = re.compile(
    _WS + r"(?:paierai|payerai|paiera|payera|reglera|paieras|payeras|regleras|paierais|payerais|"
    r"reglerai|reglerais|paierons|payerons|pagare|"
    r"virerai|ferai le (?:virement|paiement)|rembourserai|"
    # "vendredi je suis chez ma mère, je ferai ça samedi": the payment is what will be done.
    r"(?<=je )ferai (?:ca|cela)|(?<=je )(?:le|la) ferai)\b"
)
LATER = re.compile(
    _WS + r"(?:plus tard|(?<!trop )tard|later|mas tarde|luego|despues(?! de todo)|ulterieurement|"
    # "après réflexion", "après tout", "after all": thought over, no time asked.
    r"apres(?! (?:reflexion|mure reflexion|coup|tout|verification|verif|relecture|discussion)\b)|"
    # "Oliver's after-school club": a club named, no time asked ("I'll pay after school club
    # finishes" asks one).
    r"after(?! all\b)(?!(?:(?<=\bthe after)|(?<=\bs after)|(?<=\bmy after)|(?<=\bour after)|"
    r"(?<=\bhis after)|(?<=\bher after)|(?<=\btheir after)|(?<=\ban after)) school\b)|"
    # "j'attends le lien": waiting for the link is wanting it now, not asking for time.
    # "j'attends plus que votre lien": the link is all that is missing.
    r"(?:attendre|attendez|attends)(?! (?:plus que |que |juste |seulement |plus )?"
    r"(?:le|votre|ce|ton|vos|les) (?:liens?|link|sms|code))"
    # "attendez jcherche ma cb et je paye": a moment to fetch the card, paying now.
    r"(?! (?:je |j |j)?(?:cherche|prends|sors|recupere|trouve)\w* (?:ma|mon|la|le) "
    r"(?:cb|carte|portefeuille|chequier|telephone|tel)\b)|"
    r"patienter|patientez|wait|delai|un delai|extension|reporter|"
    r"je (?:reviens|reviendrai) vers vous|get back to you|"  # after checking
    r"at some point|sooner or later|eventually|tot ou tard|un de ces jours|"
    r"j y penserai|je n oublierai pas|i won t forget|i wont forget|"
    r"(?:repouss|decal|differ)(?:er|e|ez|ons)|postpone|delay|push (?:it )?back|more time|"
    r"plus de temps|"
    # "je règle le lendemain" with no day named before: later, the day unknown.
    r"le lendemain|the next day|the following day|le jour (?:d apres|suivant)|"
    r"un peu de temps|du temps|some time|quelques jours|a few days|few days|quand j aurai|"
    r"(?:qq|quelques|deux trois|2 3|2-3|2 ou 3|2 a 3|deux ou trois) (?:jours|semaines)|"
    r"(?:unos|unos cuantos|un par de|algunos|dos o tres) dias|a couple (?:of )?(?:days|weeks)|"
    r"en cuanto (?:pueda|tenga|cobre|me paguen|reciba|me llegue)|"
    r"quand je (?:toucherai|recevrai|serai|pourrai|peux|touche|recois|suis|rentre|reviens|"
    r"rentrerai|reviendrai)|"
    # "dès qu'on l'a on vous paie"; not "dès que j'ai le lien", which asks for it.
    r"(?:des que (?:je|j|nous)|des qu on)(?!(?: \w+){0,3} (?:lien|rib|iban)\b)|"
    # "on règle dès qu'il tombe": money that lands.
    r"des qu (?:il|elle|ils|elles) (?:tombe|tombera|tombent|arrive|arrivera|arrivent|"
    r"(?:est|sera|sont|seront) (?:verse|tombe|arrive)e?s?)\b|"
    r"when i (?:get|have|can|receive)|once i (?:get|have)|when things (?:calm|settle|quiet)\w*|"
    r"quand (?:ca|les choses) se (?:calme|tasse)\w*|une fois que|payday|jour de paie|"
    r"(?<!recu )(?<!touche )(?<!eu )(?<!je )(?<!j )(?<!on )(?<!tu )(?<!vous )(?<!nous )"
    # "bon j'ai ma paie, je paye maintenant": the pay in hand (not "quand j'ai ma paie").
    r"(?<!(?<!quand )(?<!que )(?<!ou )(?<!si )\bj ai )"
    r"(?<!(?<!quand )(?<!que )(?<!ou )(?<!si )\bjai )"
    r"(?<!(?<!quand )(?<!que )(?<!ou )(?<!si )\bg )"
    r"(?:ma|la|mon) (?:paie|paye|salaire)"
    # "ma paye est tombée, je paie maintenant": the pay already here is no reason to wait.
    r"(?! (?:est|a ete|vient d etre|vient de) (?:deja )?(?:tombee?|arrivee?|passee?|versee?|"
    r"tomber|arriver))|"
    # "le temps que les invités me remboursent leur part": others paying the customer back.
    r"(?:quand|des que|une fois que|le temps que|en attendant que) (?:les |mes |ma |mon |nos )?"
    r"(?:\w+ )?(?:invites|amis|amies|copains|copines|potes|participants|collegues|voisins|gens|"
    r"parents|autres|soeur|frere|mere|pere|maman|papa|mari|femme|fils|fille|cousine?|coloc|ex) "
    r"(?:me |m |nous )(?:aient |auront |ont |aura |a )?(?:rembours|rend|vire)\w*|"
    # "quand les allocs tombent": money the customer waits for, named by when it lands.
    r"(?:quand|des que|une fois que) (?:les |mes |la |ma |le |mon |l )?(?:allocs?|allocations?|"
    r"apl|caf|aides?|indemnites|rsa|chomage|retraite|pension|prime|sous|salaire|paie|paye|aah|"
    r"bourse|treizieme mois|"
    r"virement|versement|argent|(?<=mon )remboursement|(?<=mes )remboursements|"
    # "dès que le remboursement de ma mutuelle arrive": the refund from those named only.
    r"(?<=le )remboursement(?= (?:de|du|des) (?:la |l |ma |mon |mes )?(?:mutuelle|secu|cpam|caf|"
    r"assurance|assureur|impots|banque|complementaire)\b))"
    # "dès que la pension alimentaire arrive": the kind of money named, from a closed list.
    r"(?: alimentaire| de reversion| d invalidite| familiales?| logement| au logement| d activite|"
    r" chomage| adulte handicape| journalieres)?"
    r"(?: (?:de|du|des) (?:la |le |l |ma |mon )?\w+)? "
    r"(?:tombe|tombent|tombera|tomberont|arrive|arrivent|arrivera|arriveront|passe|passent|"
    r"seront la|sera la|rentre|rentrent|a verse|aura verse|versera|a paye|aura paye|"
    # "quand mon salaire est tombé": a past said of the condition, still to come.
    r"(?:est|sera|sont|seront|a ete|aura ete) (?:tombe|arrive|vire|verse|rentre)e?s?)|"
    r"(?:au|a mon|a notre) retour (?:de|des|du) (?:vacances|conges|voyage|deplacement)|"
    # Not "ok i have my salary today, i pay now": the money already here.
    r"(?:when|once|till|until|after) (?:i|we) (?:ve |have )?(?:got|had|received|have) my "
    r"(?:salary|paycheck|wages)|"
    r"(?<!have )(?<!got )(?<!received )(?<!had )my (?:salary|paycheck|wages)|"
    r"(?<!\bmy )paycheck|get paid|"
    # "I'll pay once the insurance excess is sorted": the customer's own money or paperwork
    # awaited (not "the refund", which is the merchant's to make: a dispute).
    r"(?:when|once|as soon as) (?:the |my |our )?(?:\w+ ){0,2}(?:insurance|excess|salary|wages|"
    r"pay|money|loan|claim|finances|benefits|bonus|tax|rebate|mortgage|budget|pension)s? "
    r"(?:is|are|has been|have been|gets?|get) (?:\w+ )?(?:sorted|paid|through|in|done|approved|"
    r"settled|cleared|processed)|(?:the )?(?:insurance|insurer|claim) (?:pays|has paid) out|"
    # "pension arrives Tuesday": money coming in on a day, the day to pay.
    r"(?:my |the |our )?(?:pension|benefits|universal credit|wages|salary|pay|paycheck|"
    r"paycheque|child benefit) (?:arrives?|comes? in|comes?|goes in|go in|lands?|land|hits|"
    r"is paid|gets paid|clears?)(?!(?: in)? (?:weekly|monthly|fortnightly|every|each)\b)"
    r"(?!(?: \w+| \|){0,6} (?:now|today|right away|straight away)\b)|"
    # "when my student loan comes in": money the customer waits for (not "the refund", which
    # is the merchant's to make: a dispute).
    r"(?:when|once|as soon as) (?:my|our) (?:\w+ ){0,2}(?:comes? in|arrives?|lands?|clears?|"
    r"goes in|gets? here|comes? through)|"
    # "quand mon fils m'aura remboursé", "quand ma fille m'aura fait le virement": the money
    # the customer waits for from someone else (future perfect).
    r"quand (?:\w+ ){1,3}(?:m|nous) (?:aura|auront) |"
    # "dès que l'assurance m'a remboursé": the money the customer waits for, told in the past.
    r"(?:des que|quand|une fois que|lorsque) (?:l |la |le |ma |mon |mes |les )?(?:\w+ ){0,2}"
    r"(?:m|nous) (?:a|ont) (?:rembourse|verse|vire|avance|prete)|"
    # "quand mon mari sera rentré": someone the customer waits for.
    r"quand (?:mon|ma|mes|le|la|les) (?:\w+ ){0,2}(?:sera|seront) (?:rentree?s?|revenue?s?|"
    r"de retour|la)\b|"
    # "quand la banque aura débloqué ma carte": what the customer waits for, someone else's to do.
    r"quand (?:la |le |l |ma |mon |mes |les )(?:\w+ ){0,2}(?:aura|auront) (?:debloque|reactive|"
    r"resolu|regle le|remis|verse|envoye|renvoye|valide|change|fait)|"
    r"je vous (?:tiens|tiendrai|tiendrais) au courant|i ll keep you posted|"
    r"(?:a|des) (?:mon|notre) retour|"
    r"when (?:i|we) (?:get|m|am|re|are|come) (?:back|out|home|better|discharged)|"
    # ... unless right away: "I'll sort it straight away" is paying now.
    r"(?:je m en occupe|je vais m en occuper|je fais le necessaire|je m en charge|i ll sort it|"
    r"i ll take care of it|i ll deal with it|will sort it)"
    r"(?! (?:straight away|right away|now|immediately|today|tout de suite|maintenant|de suite|"
    r"immediatement|direct|directement|illico|asap|dans la foulee))|"
    r"cuando (?:la |lo |los |las |me )?(?:paguen|pague|cobre|tenga|pueda|reciba|llegue)|"
    r"tengo que esperar|esperar a cobrar|"
    r"not yet|des que possible|au plus vite|as soon as i can|dans les plus brefs delais|"
    r"j attends un (?:remboursement|virement|versement|paiement)|waiting (?:for|on) (?:a|my) "
    r"(?:refund|payment|transfer)|"
    r"cet aprem|cet apres midi|tout a l heure|this afternoon|later today|cette semaine|"
    r"dans la semaine|this week|esta semana|mas adelante|cuando cobre|sometime|un de ces jours|"
    r"prochainement|(?<!\ba )(?<!\ba tres )bientot|soon)\b"  # "à bientôt" is goodbye
)
LATER_INHERENT = re.compile(
    _WS + r"(?:(?:a|en) decouvert|dans le rouge|overdrawn|in my overdraft|"
    r"pas les moyens|pas l argent|pas d argent|pas de sous|pas un sou|pas assez|"
    r"pas les sous|plus de sous|pas de thune|pas la thune|plus de thune|ric (?:a )?rac|"
    r"plus d argent|plus un rond|pas un rond|fauche\w*|a sec|broke|skint|strapped|hard up|"
    r"no money|no cash|"
    r"short on (?:money|cash)|tight this month|(?:dont|do not) have (?:the |any |enough )?"
    r"(?:money|cash|funds)|n ai pas (?:l |d |assez d )?argent|no tengo (?:dinero|plata)|"
    r"sin dinero|pas encore (?:recu|touche|eu) (?:ma|mon|la|le) (?:paie|paye|salaire|virement)|"
    r"(?:aun |todavia )?no (?:cobro|cobrare|he cobrado|me pagan|me ingresan)|"
    r"no tengo saldo|sin saldo|no me queda saldo|"
    # "ahora mismo no llevo la tarjeta": the means not at hand, a reason to wait.
    r"no (?:llevo|traigo|tengo) (?:la |mi )?(?:tarjeta|cartera)(?: encima| conmigo| aqui)?|"
    # Out of work: money short for a while.
    r"(?:estoy |me he quedado |me quede )?(?:sin trabajo|sin curro|sin empleo|en (?:el )?paro)|"
    r"(?:je suis |suis )?(?:au chomage|sans (?:emploi|boulot|travail|taf))|"
    r"(?:i m |im |i am )?(?:out of work|unemployed|between jobs)|"
    r"waiting (?:for|on) (?:my )?(?:wages|salary|pay|paycheck|payday)|"
    r"pas ce mois ci|not this month|short this month|(?:un peu )?juste ce mois ci|un peu juste|"
    r"(?:un peu )?serre ce mois ci|difficile ce mois ci|a bit short|tight this month|"
    r"c est (?:complique|difficile|dur|chaud|tendu)|pas facile en ce moment|"
    r"(?:money|things|cash|finances)(?: s| is| are)? (?:a bit |really |very |quite )?tight|"
    r"whenever i can|(?:ando|voy|estoy) (?:muy )?(?:justo|apurad[oa])|c est (?:un peu )?serre|"
    r"(?:ahora|este mes|yo) no llego|no llego a (?:fin|final|finales) de mes|"
    r"no llego a (?:todo|pagarlo|pagar(?:lo)? todo|tanto))\b"
)
INABILITY_PHRASE = re.compile(
    # "can't find it in the message": the link not found, not an inability to pay.
    # "can't stop laughing", "je peux pas m'empêcher de rire": idioms that are no inability.
    _WS + r"(?:(?:je |j )?(?:ne )?(?:peux|peut|pourrai|pourrais) pas(?! (?:trouver|voir|"
    r"m empecher|croire|dormir|rater|louper)\b)|"
    r"cant(?! (?:find|see|locate|spot|work out|figure|believe|sleep|complain|thank|"
    r"stop (?:laughing|smiling|thinking|crying|eating|talking|listening|playing))\b)|unable|"
    r"impossible(?! de (?:dormir|croire|trouver|voir)\b)|"
    r"pas possible|not possible|no puedo|(?:je )?n y arrive pas|j y arrive pas)\b"
)
POST_NEGATION = re.compile(
    r"^(?: \w+){0,2}? (?:c est |ce n est |c |ca |that s |it s )?(?:pas possible|impossible|"
    r"pas pour moi|(?:je |j )?(?:ne )?(?:peux|peut|pourrai|pourrais|vais) pas|i cant|cant|"
    r"not possible|no puedo|no es posible|no quiero|no voy a|no pienso|"
    # "les 3x c pas la peine": the option dropped.
    r"pas (?:la peine|necessaire|utile)|(?:is |are )?not (?:needed|necessary)|"
    r"no (?:hace falta|es necesario))\b"
)
#: "lundi je peux pas avant", "thursday, can't any sooner": the date is the earliest, it stands.
EARLIER_ONLY = re.compile(
    r" (?:avant|avt|plus tot|pas plus tot|before|sooner|any sooner|earlier|till then|until then|"
    r"antes)\b"
)
FRENCH_POST_NEGATION = re.compile(r" (?:pas|jamais|rien|point|plus(?! (?:tard|tot|de|d)\b))\b")
#: "Pas avant vendredi" / "not until Friday": the negation is about *before*, the date stands.
