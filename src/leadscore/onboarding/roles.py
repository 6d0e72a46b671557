"""Which column plays which role, by its name and its profile: the name patterns and value
checks ``leadscore init`` proposes a mapping from. Every guess carries the reason it was made,
for the comment that tells the user what to check."""

from __future__ import annotations

import re
from dataclasses import dataclass

from leadscore.config import LEAD_ROLES
from leadscore.onboarding.profile import ColumnProfile

# role -> pattern on the normalized column name (lower case, words joined by "_")
NAMED_ROLES: dict[str, str] = {
    "email": r"e_?mail(_address)?",
    "phone": r"(phone|mobile|telephone|tel)(_number|_no)?",
    "first_name": r"(first|given)_?name",
    "last_name": r"(last|family|sur)_?name",
    "company": r"company|company_name|organi[sz]ation|account_name|employer",
    "website": r"website|web_site|domain|url",
    "job_title": r"job_title|job|title|position",
    "company_size": r"company_size|size|employees|headcount|employee_count",
    "industry": r"industry|sector|vertical",
    "country": r"country(_code|_name)?",
    "region": r"region|state|province",
    "city": r"city|town",
    "user_agent": r"user_?agent|ua|browser",
    "source": r"source|channel|utm_source",
    "landing_page": r"landing_page|landing|page_url|entry_page|landing_page_url",
    "budget": r"budget",
    "authority": r"authority|decision_maker",
    "need": r"need",
    "timeline": r"timeline|timeframe|time_frame",
}
# a role's column may carry the table's subject before it: "Lead Source", "Contact Email"
OWNER = r"((lead|contact|customer|prospect|company|account|user|visitor)_)?"
# what a role's values look like, when that says more than the name (profile.looks)
LOOKS_ROLES: dict[str, str] = {"email": "email", "phone": "phone", "user_agent": "user_agent"}
ID_NAME = r"(^|_)(id|uuid|guid|key|ref|reference)$"
ORDER_NAME = r"(^|_)(number|no|num|seq|sequence|order|index|row)$"
CREATED_NAME = r"created|signup|sign_up|submitted|registered|arrived|^date$|^timestamp$|^ts$"
# names an outcome goes by in exports: a model's ``y`` or ``target``, a CRM's ``Converted`` or
# ``Closed Won``, a shop's ``Revenue`` or ``Purchased``, a contract's ``Signed``
LABEL_NAME = (
    r"(^|_)(y|converted|conversion|converts?|won|win|closed|outcome|result|status|stage|label|"
    r"target|class|purchased?|purchases|bought|buyer|revenue|sale|sold|deal|customer|signed|"
    r"subscribed|enrolled|success|responded)($|_)"
)
CONVERTED_AT_NAME = r"(^|_)(converted|conversion|won|closed?|close|deal|purchase|signed|sold)"
POSITIVE_WORDS: tuple[str, ...] = (
    "1", "yes", "y", "true", "t", "won", "win", "closed won", "converted", "success",
    "customer", "purchased", "signed",
)  # fmt: skip
# a value that reads as "no", and the "yes" it goes with (a label seen with one value only)
NEGATIVE_PAIRS: dict[str, str] = {
    "0": "1", "no": "yes", "n": "y", "false": "true", "f": "t", "lost": "won",
    "closed lost": "closed won", "not converted": "converted",
}  # fmt: skip
ENGAGEMENT_NAME = (
    r"visit|view|session|click|open|download|time|duration|seconds|minutes|pages|"
    r"count|activit|engag"
)
# names of fields a sales team fills in after talking to a lead (a lead's quality, its tags,
# its last activity, a stage or status): suspects to check, whatever their statistics say
AFTER_CONTACT_NAME = (
    r"(^|_)(tags?|quality|profile|last|status|stage|notes?|owner|lost|disposition|score|"
    r"index|rating|grade)($|_)"
)
QUESTION = re.compile(r"^(what|how|which|why|when|where|who|do_you|are_you|would_you)_")
MONTHS: tuple[tuple[str, ...], ...] = (
    (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ),
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
)  # fmt: skip


@dataclass(frozen=True)
class Guess:
    """A proposed value and why it was proposed (the comment the user reads)."""

    value: object
    why: str


def normalized(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def matches(name: str, pattern: str) -> bool:
    return re.search(pattern, normalized(name)) is not None


def feature_name(column: str, taken: set[str]) -> str:
    """A lower_case_with_underscores feature name for a declared column, unique and not a
    role's name."""
    name = normalized(column) or "column"
    name = name if name[0].isalpha() else f"c_{name}"
    while name in taken or name in LEAD_ROLES:
        name = f"{name}_field"
    taken.add(name)
    return name


def named_role(role: str, profiles: dict[str, ColumnProfile], used: set[str]) -> Guess | None:
    """The first free column that is named like ``role`` or whose values look like it."""
    look = LOOKS_ROLES.get(role)
    for column, profile in profiles.items():
        if column in used or profile.kind == "empty":
            continue
        if look is not None and profile.looks == look:
            return Guess(column, f"most values look like {look.replace('_', ' ')}s")
        named = re.fullmatch(OWNER + f"({NAMED_ROLES[role]})", normalized(column))
        if named and profile.kind != "date":
            return Guess(column, "named like it")
    return None


def label_values(profile: ColumnProfile) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """Positive and negative values of a label-like column: a value that reads as "yes" is
    positive, the others negative; None when no value reads as yes or there are too many."""
    if not 2 <= profile.distinct <= 4:
        return None
    positive = tuple(v for v in profile.top if v.strip().lower() in POSITIVE_WORDS)
    if len(positive) != 1:
        return None
    return positive, tuple(v for v in profile.top if v not in positive)


def one_class_values(profile: ColumnProfile) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The label values of a column that holds one value reading as yes or no: that value, and
    for a "no" the "yes" it goes with (written as the value is: ``NO`` gives ``YES``), since a
    label needs a positive value to be declared at all."""
    if profile.distinct != 1:
        return None
    value = profile.top[0]
    word = value.strip().lower()
    if word in POSITIVE_WORDS:
        return (value,), ()
    if word not in NEGATIVE_PAIRS:
        return None
    yes = NEGATIVE_PAIRS[word]
    cased = yes.upper() if value.isupper() else yes.title() if value[:1].isupper() else yes
    return (cased,), (value,)


def month_order(profile: ColumnProfile) -> tuple[str, ...] | None:
    """The calendar's order when every value is a month name."""
    for names in MONTHS:
        if set(profile.top) <= set(names) and profile.distinct <= 12 and profile.distinct > 1:
            return names
    return None
