"""French word lists the rule baselines use, written from the annotation guidelines.

They are deliberately generic (reporting verbs, data nouns, evaluative words), not lifted
from any one release.
"""

from __future__ import annotations

import re

# Reporting verbs (PARC cues), as past participles; "a déclaré", "ont souligné", "a-t-il
# ajouté", "a pour sa part déclaré" are all built from these.
REPORTING_PARTICIPLES = (
    "déclaré ajouté souligné précisé indiqué affirmé expliqué estimé rappelé annoncé salué "
    "exhorté appelé révélé noté confié assuré insisté averti dit répondu poursuivi conclu "
    "commenté observé signalé martelé reconnu déploré dénoncé jugé plaidé prévenu écrit "
    "fait savoir"
).split(" ")
# Cues whose content is a call, praise or wish rather than a factual assertion.
NON_ASSERTIVE = frozenset({"salué", "exhorté", "appelé", "plaidé", "déploré", "dénoncé"})
REPORTING_PRESENT = (
    "déclare ajoute souligne précise indique affirme explique estime rappelle annonce "
    "salue révèle note assure insiste avertit"
).split()
REPORTING_GERUNDS = (
    "ajoutant soulignant précisant indiquant affirmant expliquant estimant rappelant notant".split()
)

_INSERT = (
    r"(?:(?:pour sa part|pour leur part|également|aussi|encore|notamment|par ailleurs|"
    r"ensuite|quant à lui|quant à elle)\s+)?"
)
_PARTICIPLE = "|".join(
    sorted((p.replace(" ", r"\s+") for p in REPORTING_PARTICIPLES), key=len, reverse=True)
)
VERB_CUE = re.compile(
    rf"\b(?:a|ont|avait|avaient|aurait)(?:-t-(?:il|elle|ils|elles))?\s+{_INSERT}(?P<participle>{_PARTICIPLE})\b"
    rf"|\b(?P<present>{'|'.join(REPORTING_PRESENT)})\b(?=\s*(?:que|:|,|\.|le|la|l’|l'))"
    rf"|\b(?P<gerund>{'|'.join(REPORTING_GERUNDS)})\b(?=\s+(?:que|qu’|qu'))",
)
# "selon" / "d'après" attribute only when followed by a source: a determiner and a data or
# source noun, or a proper name — not "selon des mesures" (according to a method).
SOURCE_NOUNS = (
    "données chiffres statistiques sondage sondages enquête enquêtes étude études rapport "
    "rapports source sources ministère ministre agence institut office bureau organisation "
    "administration gouvernement autorités experts analystes responsable responsables "
    "porte-parole communiqué président présidente directeur directrice banque fonds"
).split()
PREPOSITION_CUE = re.compile(
    r"\b(?P<prep>[Ss]elon|[Dd][’']après)\s+"
    r"(?=(?:(?:le|la|les|l’|l'|un|une|des|ce|cette|ces|son|sa|ses|leur|leurs)\s*)?"
    rf"(?:(?:{'|'.join(SOURCE_NOUNS)})\b|[A-ZÀ-Ý]))"
)
# Words that end a source noun phrase after an inverted cue ("a déclaré X dans un discours").
# (?<!\s): a search tries a run of spaces once, from its first space, not from each (linear)
SOURCE_STOP = re.compile(
    r"(?<!\s)\s+(?:dans|lors|en|à|au|aux|devant|pendant|durant|après|avant|mardi|lundi|mercredi|jeudi|"
    r"vendredi|samedi|dimanche|hier|aujourd’hui|selon|sur|pour|avec|que|qui)\b|[.;:!?(,]"
)
TITLE_WORDS = (
    "président présidente ministre secrétaire directeur directrice porte-parole PDG "
    "chercheur chercheuse professeur professeure ambassadeur ambassadrice chef gouverneur "
    "maire président-directeur fondateur fondatrice économiste analyste responsable "
    "vice-président vice-présidente conseiller conseillère délégué déléguée"
).split()
PRONOUNS = frozenset({"il", "elle", "ils", "elles", "Il", "Elle", "Ils", "Elles"})

# Claim typing.
CAUSAL = re.compile(
    r"\b(?:grâce à|en raison de|à cause de|du fait de|entraîn\w+|provoqu\w+|"
    r"conduit à|permis de|a permis|ont permis|favoris\w+|résult\w+ de)\b",
    re.I,
)
COMPARATIVE = re.compile(
    r"\b(?:premier|première|deuxième|principal\w*|record|plus\s+\w+\s+que|"
    r"moins\s+\w+\s+que|le plus|la plus|les plus|dépass\w+|supérieur\w*|"
    r"inférieur\w*|hausse|baisse|progress\w+|recul\w*)\b",
    re.I,
)
RULES = re.compile(
    r"\b(?:traité|loi|accord|règlement|décret|convention|charte|constitution)\b.*"
    r"\b(?:vise|prévoit|dispose|interdit|impose|autorise|oblige|stipule|consacr\w+)|"
    r"\bont convenu\b|\bse tiendr\w+\b",
    re.I,
)
PREDICTION = re.compile(
    r"\b(?:devrait|devraient|atteindra|atteindront|sera|seront|prévoit que|"
    r"d’ici (?:à )?\d{4}|d'ici (?:à )?\d{4}|à l’avenir)\b",
    re.I,
)
YEAR = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b")
EVALUATIVE = re.compile(
    r"\b(?:important\w*|marquant\w*|essentiel\w*|historique|exceptionnel\w*|"
    r"remarquable\w*|excellent\w*|formidable\w*|fier\w*|ravi\w*|heureu\w+|"
    r"magnifique\w*|incarne\w*|esprit|amitié|confiance|volonté|modèle)\b",
    re.I,
)

# Polls.
RESPONDENTS = re.compile(
    r"\s+(?:des|de)\s+(?:personnes\s+(?:interrogées|sondées|consultées)|répondants|sondés|"
    r"participants|internautes|Français|Françaises|citoyens|habitants|électeurs|lecteurs)\b"
)
POLL_WORDS = re.compile(
    r"\b(?:sondage|enquête|étude d’opinion|étude d'opinion|baromètre|poll)\b", re.I
)
CONDUCTOR = re.compile(
    r"\b(?:mené|menée|réalisé|réalisée|conduit|conduite|effectué|effectuée)\s+par\s+"
    r"(?P<who>(?:l’|l'|le |la |les )?[A-ZÀ-Ý][\w&’'.-]*(?:\s+[A-ZÀ-Ý][\w&’'.-]*)*)"
)
SPONSOR = re.compile(
    r"\b(?:pour|commandé par|à la demande de)\s+(?P<who>(?:l’|l'|le |la |les )?"
    r"[A-ZÀ-Ý][\w&’'.-]*(?:\s+[A-ZÀ-Ý][\w&’'.-]*)*)"
)
POLL_OF = re.compile(
    r"\b(?:sondage|enquête|baromètre)\s+(?:de|d’|d')\s*(?P<who>[A-ZÀ-Ý][\w&’'.-]*)"
)
SAMPLE = re.compile(
    r"\bauprès\s+(?:de|d’|d')\s*(?:un\s+échantillon\s+(?:représentatif\s+)?de\s+)?"
    r"(?P<n>\d[\d \u00a0\u202f]*)\s+(?:personnes|individus|répondants|adultes|"
    r"Français|internautes)"
)
DATES = re.compile(r"\bdu\s+\d{1,2}(?:er)?\s+(?:\w+\s+)?au\s+\d{1,2}(?:er)?\s+\w+(?:\s+\d{4})?")
RECENT = re.compile(r"\b(?:récent|récente|récemment|dernier|dernière)\b")
MODE = re.compile(
    r"\b(?:en ligne|par téléphone|par internet|en face[- ]à[- ]face|par courrier|"
    r"sur les réseaux sociaux|via (?:une|la) plateforme)\b"
)
MARGIN = re.compile(r"\bmarge d[’']erreur\b")
POPULATION = re.compile(
    r"\b(?:représentatif|représentative)\s+(?:de la population\s+)?[\w\s’']{0,40}"
)

# What respondents agreed with, after the verb that reports it.
PROPOSITION = re.compile(
    r"\b(?:considèrent|estiment|pensent|jugent|affirment|déclarent|"
    r"soutiennent|approuvent|croient)\s+(?:que|qu[’'])\s*(?P<prop>.+)$"
)

# Who a source is (the rules system's source_kind and source_role).
GOVERNMENT = re.compile(
    r"\b(?:administration|ministère|gouvernement|douanes|institut national|"
    r"bureau national|office national|insee|banque centrale)\b",
    re.I,
)
MEDIA = re.compile(r"\b(?:CGTN|Xinhua|CCTV|RT|Sputnik|China Daily|Global Times)\b")
GOVERNMENT_TITLES = re.compile(
    r"\b(?:président|présidente|ministre|gouverneur|ambassadeur|"
    r"ambassadrice|maire|porte-parole|chef de l’État|premier ministre)\b",
    re.I,
)
EXPERT = re.compile(
    r"\b(?:université|centre de recherche|institut|professeur|chercheur|"
    r"chercheuse|économiste|analyste|expert)\b",
    re.I,
)
TITLE = re.compile(r"\s*(?:le |la |l’|l')?(?:" + "|".join(TITLE_WORDS) + r")\b", re.I)
ORGANIZATION_WORDS = re.compile(
    r"\b(?:administration|institut|agence|ministère|banque|groupe|"
    r"group|corp|inc|sa|université|centre|office|bureau|association|"
    r"fondation|commission|conseil|organisation|société|compagnie)\b",
    re.I,
)
PERSON_NAME = re.compile(r"(?:[A-ZÀ-Ý][\w’'-]+\s+){1,3}[A-ZÀ-Ý][\w’'-]+")
INTERNATIONAL = re.compile(
    r"\b(?:secrétariat|secrétaire général|nations unies|onu|union européenne|"
    r"organisation internationale|mécanisme)\b",
    re.I,
)
