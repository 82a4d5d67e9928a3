"""Per-language word lists of the recognizer, read from data files (`flows/lexicon/*.toml`).

Each file describes one language: ``language`` (its code), ``markers`` (words that show a text
is written in it) and ``[patterns]``, lists of regex fragments per category, written against
normalised text (`flows.intent_text`). A category joins the fragments of every file present, so
adding a language means adding a file; no code names a language's words.

Categories read by `flows.intents`:

- ``opt_out_defused``: a "stop"/"arrêt" word that does not ask to stop messages ("non stop",
  "stop by the shop", "j'ai pas dit stop", "arrêt maladie");
- ``opt_out_maybe``: might ask to stop messages, not clearly ("arrêtez de me facturer...",
  "trop de messages"): the bot asks a one-line confirmation and carries on;
- ``stop_word``, ``stop_negator``, ``stop_negator_opening``, ``stop_wish``, ``stop_send``,
  ``stop_filler``, ``stop_adverb``, ``stop_you``, ``stop_wish_asked``, ``stop_messaging``,
  ``stop_recipient``, ``stop_keyword``, ``stop_imperative``, ``stop_asked_back``,
  ``stop_send_if``, ``stop_send_asked``, ``stop_asked``, ``stop_asked_question``,
  ``stop_already_sent``, ``stop_as_thing``: where a stop word stands (`flows.intent_stop`,
  whose docstring says what each is for): under a
  negated wish or sending ("je ne veux pas me désinscrire"), named as the keyword one would
  send in a question ("envoyer STOP ça coûte combien ?"), or a noun for something else ("un
  petit stop pour régler");
- ``opt_out_reported``: a STOP the customer reports having sent ("j'avais dit stop"); it gives
  way only when the message also asks to opt back in;
- ``plan_kept``: the plan already agreed kept, after a refusal ("non, je garde l'échéancier
  qu'on avait"): no, not a split asked for;
- ``nonstop_told``: the clause after a bare "non stop" that tells what went on without a
  break ("Non stop ! j'ai bossé tout le weekend"): the keyword is only asked about;
- ``reply_words_listed``: our message's reply words ("PAYER", "3X"); a stop keyword alone in
  a clause right after two of them, in a question of what they mean (``reply_words_asked``:
  "c'est quoi ces PAYER, 3X, STOP ? je dois répondre quoi ?"), is a list of them asked about,
  never ignored;
- ``stop_for_good``: a stop said for good ("une bonne fois pour toutes", "de vos listes"): in a
  clause of its own it is recorded whatever the trained reader makes of a complaint around it;
- ``opt_out``, ``opt_in``, ``dispute``, ``already_paid``, ``status``, ``ask_agent``,
  ``help_question``: phrasings of those intents (``already_paid`` here is not cancelled by a
  negation: "didn't you get my payment?");
- ``dispute_product``: a broken or faulty product, unless a ``payment_tools`` word is named
  just before it or a ``payment_link`` anywhere ("le lien ne marche pas" asks for help);
- ``reason``: a refusal to pay with a reason ("car", "because") contests the invoice;
- ``price_mocked``: praise said first, then a price and what it bought ("Bravo, 80 balles pour
  des ballons dégonflés", "Oh great, 60 euros for gel nails that peeled off"), read as a dispute
  when ``praise_closing`` says the praise again at the end ("…, super service") or an eye-roll
  mocks it; without them it may be thanks ("Génial, 45 € pour les deux séances, je règle ce
  soir");
- ``payment_context`` / ``smalltalk``: whether a message with a date in it is about paying;
- ``greetings`` (small talk) and ``undecided`` ("pas sûr", "not sure": neither yes nor no);
- ``payment_context_strict``: words about paying in any sentence (a bare "later" is not);
- ``already_paid_alone``: a whole message that reports a payment, read with its accents
  ("payé !");
- ``stop_elsewhere``: a stop about the customer's day or a thing ("le bus s'arrête devant",
  "stop by the shop"): chit-chat when nothing else is read;
- ``paid_participle`` / ``infinitive_before`` / ``paid_after_noun``: a past participle written
  with its accent tells a payment however the rest is spelt ("ya payé", "règlement efectué"),
  unless a modal or a preposition before it makes it a misspelt infinitive ("je veux payé");
- ``opt_out_retracted``: a STOP taken back in the same message ("wrong button, I meant...");
- ``status_question`` / ``status_asked`` (the latter only with a "?"): a question about the
  invoice itself, read before disputes; ``dispute_denied`` ("je ne dis pas que c'est faux")
  is not a named defect there;
- ``help_means``: how paying works, which means are accepted (``help_means_asked``: paying by
  a named means, card included, in a question: LABELS' help); ``pay_decided``: the message
  goes ahead anyway ("vous prenez paypal ? je paye direct");
- ``link_request``: the pay link asked for again (a request to pay, not a problem);
- ``agent_declined``: a person declined ("pas besoin d'un conseiller");
- ``split_rest``: a part now and the rest (or the other half) later, a split in 2;
- ``not_for_us``: a message for someone else (wrong number or person, a voice assistant);
  ``praise``: thanks for the work, not a complaint about it; ``smalltalk_topic``: the lesson,
  the appointment, holiday wishes, which outweigh a weak payment word ("I'll");
  ``paid_future``: paid by a day to come ("d'ici vendredi c'est réglé"), a promise, unless
  ``paid_arriving``: the money of a payment made arrives by that day ("vous l'aurez lundi");
  ``paid_wished``: wished paid ("want it settled before I fly"), about to pay, blanked before
  a payment report is looked for;
  ``no_contest_told``: a contest denied ("je conteste rien hein"): a cost told after it
  (``cost_told``: "a coûté plus que prévu"), with nothing that takes the denial back between
  (``no_contest_taken_back``: "mais", "toutefois"), challenges no charge;
  ``wait_asked``: the wait asked for this bill ("can it wait until…");
  ``result_said``: a result ("donc", "so"): days told before it, and a payment now after it,
  are why now;
  ``this_bill_beside`` (this bill paid beside another: "et votre facture") and
  ``money_arriving`` ("le virement arrive vendredi"): no other bill paid, no promise;
  ``fault_as_job``: the fault named as the job billed and paid for ("régler la facture de la
  fuite d'eau"), blanked before disputes are read;
  ``paid_other``: another expense paid ("g deja payé les billets du concert", "the car
  insurance just came out"), in a clause of its own beside this bill promised for a day: why
  the customer waits, not this bill paid;
  ``opt_out_regretted``: an opt-out regretted or not meant ("I shouldn't have unsubscribed"):
  the messages asked back, the stop word inside it no request;
  ``link_refused``: the payment link not wanted ("don't need a link"), so no way to pay asked;
  ``paid_believed``: a payment believed made, found not to be ("je croyais que c'était déjà
  prélevé mais non"), with ``not_yet_paid`` before paying at once, blanked for the concepts;
- ``bank_details_asked``: the merchant's bank details asked for ("votre RIB ?"): help;
- ``wrong_defused``: idioms that name no defect ("my French is rusty"), left out with praise
  when the concepts look for something wrong;
- ``reminders_relentless``: "non stop les relances": the stop when no payment is decided
  beside it, asked about otherwise;
- ``away``: being away or on holiday, the reason for a day said alone before it ("Next
  week, I'm on holiday"): the day is promised;
- ``forgotten_on``: the words just before a day on which a payment would be forgotten
  ("ça m'évitera de l'oublier jeudi"): that day is no promise;
- ``paid_asked``: whether it is paid, asked or doubted ("I thought I'd cleared it all, is
  there still something owing?"): status, not a payment report;
- ``day_hard``: a day said to be hard ("end of the week is tight"): a reason, not the day
  promised; ``sessions_left``: lessons left on a package asked about beside a payment report
  (not money left); ``option_misfired``: an option of ours named as pressed by mistake
  ("votre bouton PLUS TARD s'est déclenché tout seul"), not chosen;
- ``parts_settled``: two counts hesitated between, then one chosen ("4 fois ou 3... allez
  3"): the last;
- ``who_asked`` with ``number_not_known`` only ("c qui ? je connais pas ce numéro"): who
  the sender is, asked: help; a wrong person named ("I'm not Kevin") stays unknown;
- ``paid_told_how``: a payment told with its means or payer ("par chèque", "ma mère a
  réglé"), or as settled in full ("j'ai tout soldé"): beside a question about what is left,
  the report comes first;
- ``link_missing``: no link received; beside ``pay_decided``, a request to pay, not help;
- ``told_softly``: a hedge ("il me semble que", "I think") before what would read as a
  status question: told, not asked;
- ``agent_call_past``: a call told as past ("comme convenu au téléphone"), no person asked;
- ``payment_missing``: a payment said to be missing ("il manquait un mois"): what is owed,
  not a defect, inside a question about the invoice;
- ``scam_asked``: whether this is a scam, asked beside an unknown sender: help; alone, a
  dispute.
- ``what_to_do``: "what do I do?", "je fais comment ?": after a decision to pay, the way to pay
  as decided, not a question about the product.
- ``how_to_pay``: "how do I pay?" (the link), unless ``payment_means`` (the means, the
  options) or ``help_difficulty`` ("je ne vois pas comment") is named;
- ``question_start``: a clause that opens like a question ("pouvez-vous", "can I"), for
  messages sent without their "?";
- ``service_withheld`` / ``service_billed``: a dispute told as a story, read only together: a
  service not delivered (closed, suspended, cancelled, the provider away, shorter than billed)
  and billed anyway or refused for it ("la salle était fermée tout août et vous me facturez
  août ?"), unless the bill is only named as what is paid (``bill_paid_for``: "can I settle
  the tutoring invoice next week?") and not itself questioned (``bill_questioned``: "minus
  those weeks", "la facture entière"); ``own_money_awaited``: the customer's own refund to come,
  a reason to wait ("quand je reçois mon remboursement"), and ``mishap_told``: the customer's
  own mishap on the road ("le bus s'est arrêté en panne", "the car broke down on the way
  home"), both blanked before
  disputes are read, like ``dispute_lookalike`` (a visit or a call made twice, a first time
  paying by text, a fault said to be fixed); ``income_told``: the customer's own income paid
  to them ("la banque a viré mon salaire", "mes congés payés") or money just spent elsewhere
  that leaves them short ("just paid for school uniforms and I'm skint"), blanked before a payment
  report is read and, unless said as a condition, before the payment decision;
  ``away_on_day``: the customer away on the day after it ("je pars en vacances demain",
  "c'est Noël") or the work done that day ("l'ouverture de porte de mardi"): never the day
  promised, and beside a pay word said before it, the reason to pay now; ``service_of_day``:
  the service a weekday names, said right before it ("la note du resto de samedi", "the dinner
  from Saturday"): the same, for `flows.intent_payment`; ``reason_before_day``: a word that
  makes the day after it the reason ("with Christmas and all"): no date read there;
  ``departure_before_day``: a departure told before its day ("on part en vacances demain"):
  the day the customer leaves, no date read there; ``past_before_day`` / ``day_praised``:
  work done or an event enjoyed on a day gone by ("the lads worked non stop on Saturday", "the
  workshop on Sunday was brilliant"): no date read there; ``event_of_season``: an event named
  by the part of the season it closes ("les places du spectacle de fin d'année"): no date read
  there; ``deadline_wished``: a deadline the
  customer wants to meet ("want it sorted before xmas"), blanked when another clause asks the
  way to pay;
- ``stop_consequence_asked``: what replying STOP would do, asked ("si je réponds STOP ça
  annule l'inscription ?"): help, read before any dispute;
- ``problem_until``: a problem with paying that lasts until a day ("ma cb est bloquée jusqu'à
  mardi"): a wait, not help; ``offer_named``: our own "3 fois sans frais" named, whose "frais"
  is no charge challenged;
- ``parts_corrected``: a number of instalments chosen over another ("plutôt 4 que 3", "3 not
  2"), unless a ``count_unit`` follows either number ("3 pas 4 heures", "not 3, make it 6
  days"; within the match, a ``parts_over`` unit is instalments: "could we do 6 months?"), a
  ``before_day`` word precedes ("le 3 pas le 4") or a ``visits_counted`` one ("est venu 3 fois
  pas 5": visits contested);
- ``cannot_before``: not able to pay before a day, opening the message ("jpeux pas avant la
  fin du mois, c'est serré avec la rentrée"): the promise, unless a topic follows it with no
  money told short; ``apology``: a "désolé" that may close that clause;
- ``help_link``: what the link or the message is for, how we got the number (help, read before
  questions about the invoice); ``messages_welcome``: our reminders welcome ("don't stop the
  reminders"), small talk when nothing else is read;
- ``concept_*``: the concept groups of `flows.intent_concepts` (messages, cease, again,
  again_negated: the messages told never to come again, unsubscribe, wrong, settled, split,
  whole, person, contact, left, postpone, opt_in_want,
  invoice: what an invoice is made of; process: how paying works — both read only in a
  question that decides nothing, `flows.intent_concepts.question`).

``rule_opt_out``, ``rule_opt_in``, ``rule_dispute``, ``rule_dispute_negatable``,
``rule_already_paid``, ``rule_ask_agent``, ``rule_status``, ``rule_help_problem``, ``rule_help``,
``rule_no``, ``rule_yes``, ``rule_smalltalk``: the keyword rules of `flows.intent_rules` (read
there, in the order `flows.intents` documents);
- ``negation_idioms`` ("pas question", "no way": rewritten to "neg"), ``dropped_option`` ("no
  need for", "laissez tomber": to "pas"), ``not_now`` ("ahora no", "no time today": to "pas
  maintenant") and ``no_problem`` ("pas de souci": to "ok"), read by `flows.intent_payment`
  before negations are.

``holiday_country`` / ``holiday_subdiv`` and ``[holidays]``: what customers call the public
holidays of the language's country, for "après l'Ascension" (`flows.dates`).

``[spelling]`` is read only when the spelling vocabulary is rebuilt
(`tests.intents.build_vocabulary`): ``words``, words of their own however close to a more
frequent one ("machin" is not "machine"), and ``day_words``, the day words whose slips stay
slips however often they recur ("demin").

The files are read once, on first use (no import-time I/O), and are immutable afterwards.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

LEXICON_DIR = Path(__file__).with_name("lexicon")
_NEVER = re.compile(r"(?!x)x")


@dataclass(frozen=True, slots=True)
class Holiday:
    """What customers call a public holiday (``[holidays]`` of a language file): *alias* is
    matched whole, *name* is the holiday's name in the `holidays` package for the file's
    ``holiday_country`` (and ``holiday_subdiv``), or for the country its key names
    ("FR:Ascension Day"), or "*" for whichever comes next."""

    alias: re.Pattern[str]
    country: str
    subdiv: str | None
    name: str


class CompiledOnUse(Mapping[str, re.Pattern[str]]):
    """Each category's regex, compiled the first time it is read: compiling all of them took
    a quarter of a second of CPU, on the first message a restarted worker reads (issue 12:
    first reply after a restart), and a message reads about a third of them."""

    def __init__(self, fragments: Mapping[str, Sequence[str]]) -> None:
        self._fragments = dict(fragments)
        self._compiled: dict[str, re.Pattern[str]] = {}

    def __getitem__(self, category: str) -> re.Pattern[str]:
        compiled = self._compiled.get(category)
        if compiled is None:
            items = self._fragments[category]
            # "(?=[a-z0-9])": only word starts are tried, not word ends (faster, same matches).
            compiled = re.compile(r"\b(?=[a-z0-9])(?:" + "|".join(items) + r")\b")
            self._compiled[category] = compiled
        return compiled

    def __iter__(self) -> Iterator[str]:
        return iter(self._fragments)

    def __len__(self) -> int:
        return len(self._fragments)


@dataclass(frozen=True, slots=True)
class Lexicon:
    markers: Mapping[str, frozenset[str]]
    patterns: Mapping[str, re.Pattern[str]]
    holidays: tuple[Holiday, ...] = ()

    fragments_of: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def pattern(self, category: str) -> re.Pattern[str]:
        """The category's fragments of every language as one word-bounded regex."""
        return self.patterns.get(category, _NEVER)

    def fragments(self, category: str) -> tuple[str, ...]:
        """The category's fragments of every language, for a regex built around them."""
        return self.fragments_of.get(category, ())


def _holidays(data: Mapping[str, Any]) -> list[Holiday]:
    country = data.get("holiday_country")
    if not isinstance(country, str):
        return []
    subdiv = data.get("holiday_subdiv") if isinstance(data.get("holiday_subdiv"), str) else None
    found: list[Holiday] = []
    for key, aliases in data.get("holidays", {}).items():
        # "FR:Pentecost Monday": a holiday of another country than the file's, as customers
        # of a French business name it in English ("after Whit Monday").
        elsewhere, _, name = str(key).rpartition(":")
        where, region = (elsewhere, None) if elsewhere else (country, subdiv)
        found.extend(Holiday(re.compile(alias), where, region, name) for alias in aliases)
    return found


@functools.cache
def lexicon(directory: Path = LEXICON_DIR) -> Lexicon:
    markers: dict[str, frozenset[str]] = {}
    fragments: dict[str, list[str]] = {}
    holidays: list[Holiday] = []
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as f:
            data = tomllib.load(f)
        markers[str(data["language"])] = frozenset(data.get("markers", ()))
        for category, items in data.get("patterns", {}).items():
            fragments.setdefault(category, []).extend(items)
        holidays.extend(_holidays(data))
    patterns = CompiledOnUse({category: items for category, items in fragments.items() if items})
    return Lexicon(
        MappingProxyType(markers),
        patterns,
        tuple(holidays),
        MappingProxyType({category: tuple(items) for category, items in fragments.items()}),
    )
