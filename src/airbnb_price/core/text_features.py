"""What a listing's text says, as model features shared by training and serving: keyword
flags, length and the counts a host states in the title (`name`); Airbnb's listing card, which
stands in `name` in the files of about 2023 to early 2024; the amenities and the description
of the detailed file. Tables as in `core/features.py` (a DataFrame or a dict of arrays);
numpy only.
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import json
import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from airbnb_price.core import native

#: Words in a listing's title or description that move its price; a host writes both before
#: any booking. A whole word is written `room(?<!\wroom)\b`, not `\broom\b`: the same
#: matches, but a pattern that starts with its letters is scanned for them (ten times faster
#: over a column of titles; tests/core/test_features.py holds them equal).
TITLE_KEYWORDS = {
    "luxury": r"luxur", "penthouse": r"penthouse", "house": r"house(?<!\whouse)\b|home\b",
    "boat": r"boat", "studio": r"studio", "room": r"room(?<!\wroom)\b", "loft": r"loft",
    "family": r"family|kids", "canal": r"canal", "garden": r"garden",
    "spacious": r"spacious|large|big", "small": r"cos[yi]|coz[yi]|small|tiny",
    "breakfast": r"b&b|bed and breakfast|breakfast", "suite": r"suite",
    "outdoor": r"terrace|balcony|roof", "view": r"view", "design": r"design|stylish|modern",
}


def _alternatives(pattern: str) -> tuple[re.Pattern, ...]:
    """A pattern's top-level alternatives, each compiled alone. A text holds the pattern
    exactly when it holds one of them, and `re` scans a column for a pattern that starts with
    letters several times faster than for an alternation of them (`terrace|balcony|roof`:
    2.5x on Amsterdam's titles)."""
    parts, depth, start, escaped = [], 0, 0, False
    for i, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    return tuple(re.compile(part) for part in (*parts, pattern[start:]))


_KEYWORDS = {k: _alternatives(v) for k, v in TITLE_KEYWORDS.items()}
_KEYWORD_PATTERNS = tuple(_KEYWORDS.values())
#: A number is written `\d\d*`, not `\d+`: the same matches, and `re` then skips to the next
#: digit instead of trying the pattern at every character (twice as fast over a column).
_BEDROOMS = re.compile(r"(\d\d*)\s*(?:-\s*)?(?:bed|br\b|bdr|bedroom|slaapkamer)")
_GUESTS = re.compile(r"(\d\d*)\s*(?:p\b|pers|people|guests|ppl)")
_SQUARE_METRES = re.compile(r"(\d\d\d?)\s*(?:m2|m²|sqm|square met|sq\.? ?m)")
_HTML_TAG = re.compile(r"<[^>]+>")
TITLE_FEATURES = (*(f"title_{k}" for k in TITLE_KEYWORDS), "title_length", "title_bedrooms",
                  "title_guests")


def _texts(values: Any) -> list[str]:
    """Lower-cased, stripped text per row without HTML tags, "" for missing values (NaN,
    None). Stripped because the endpoint strips request strings: a trailing space in the file
    would otherwise make title and description lengths differ between training and serving."""
    return [(_HTML_TAG.sub(" ", v) if "<" in v else v).strip().lower() if isinstance(v, str)
            else "" for v in values]  # most texts hold no tag: a substring test spares the regex


#: Joins the texts of a column for one scan per pattern. No pattern here can match it (none
#: has `.`, `\s` or a class holding it), so no match spans two texts and one scan of the
#: joined text finds what a search per text finds (tests/core/test_features.py).
_JOIN = "\x00"


class _Joined:
    """A column's texts joined by _JOIN, scanned once per pattern: by `_text.c` (one pass of
    C for every keyword, `_Scan`) where the patterns are of its simple form, else by `re`
    (one C loop instead of a Python call per text); each match is placed in its text by its
    position."""

    def __init__(self, texts: list[str]):
        self.count = len(texts)
        self.lengths = np.fromiter(map(len, texts), dtype=float, count=len(texts))
        self.text = _JOIN.join(texts)
        self._texts = texts

    @functools.cached_property
    def _starts(self) -> np.ndarray:
        """Where each text starts in the joined one (not needed for one text: it is searched
        directly)."""
        return np.cumsum([0, *(len(t) + 1 for t in self._texts[:-1])]) if self._texts else \
            np.zeros(0)

    @functools.cached_property
    def _encoded(self) -> bytes | None:
        """The joined text as `_text.c` reads it (UTF-8), None when a text holds _JOIN itself
        (the C scans split texts at it)."""
        return self.text.encode() if self.text.count(_JOIN) == self.count - 1 else None

    def _matches(self, pattern: re.Pattern) -> tuple[np.ndarray, list[re.Match]]:
        found = list(pattern.finditer(self.text))
        return np.searchsorted(self._starts, [m.start() for m in found], side="right") - 1, found

    def _some(self, rows: np.ndarray) -> _Joined:
        return _Joined([self._texts[i] for i in rows])

    def flags(self, patterns: tuple[tuple[re.Pattern, ...], ...]) -> np.ndarray:
        """1.0 where one of a pattern's alternatives (`_alternatives`) matches: a row per
        pattern, a column per text (one array for every keyword: one listing's title has 17
        keyword flags, and an array each cost more than the searches)."""
        if self.count == 1:  # one request's title: a search costs less than placing matches
            return np.array([[_found(self.text, alternatives)] for alternatives in patterns])
        scan = _Scan.of_keywords(patterns)
        if scan is None or self._encoded is None:
            return self._searched_flags(patterns)
        flags, undecided = scan.keywords(self._encoded, self.count)
        if len(undecided):  # a rule hangs on a non-ASCII character: `re` decides
            flags[:, undecided] = self._some(undecided)._searched_flags(patterns)
        return flags

    def _searched_flags(self, patterns: tuple[tuple[re.Pattern, ...], ...]) -> np.ndarray:
        flags = np.zeros((len(patterns), self.count))
        for row, alternatives in enumerate(patterns):
            for pattern in alternatives:
                flags[row, self._matches(pattern)[0]] = 1.0
        return flags

    def first_numbers(self, pattern: re.Pattern) -> np.ndarray:
        """The number in group 1 of each text's first match (NaN when none matches)."""
        if self.count == 1:
            match = pattern.search(self.text)
            return np.array([float(match.group(1)) if match else np.nan])
        scan = _Scan.of_number(pattern)
        if scan is None or self._encoded is None:
            return self._searched_numbers(pattern)
        numbers = np.full(self.count, np.nan)
        spans, undecided = scan.numbers(self._encoded, self.count)
        found = np.flatnonzero(spans[:, 0] >= 0)
        numbers[found] = [float(self._texts[i][a:b]) for i, (a, b) in zip(
            found.tolist(), spans[found].tolist(), strict=True)]
        if len(undecided):  # non-ASCII texts: \d and \s are Unicode classes to `re`
            numbers[undecided] = self._some(undecided)._searched_numbers(pattern)
        return numbers

    def _searched_numbers(self, pattern: re.Pattern) -> np.ndarray:
        numbers = np.full(self.count, np.nan)
        rows, found = self._matches(pattern)
        rows, first = np.unique(rows, return_index=True)  # matches come in text order
        numbers[rows] = [float(found[i].group(1)) for i in first]
        return numbers


#: `_text.c`'s literal rules: no word character before it (a `(?<!\wword)` lookbehind), a
#: word boundary after it (`\b`).
NO_WORD_BEFORE, BOUNDARY_AFTER = 1, 2
#: An alternative of `_text.c`'s simple form: letters, digits, spaces and `&`, `[...]` sets of
#: letters, optionally the lookbehind repeating the literal, optionally `\b`.
_SIMPLE = re.compile(r"(?P<body>(?:[a-z0-9 &]|\[[a-z0-9]+\])+)"
                     r"(?:\(\?<!\\w(?P<again>[a-z0-9 &]+)\))?(?P<boundary>\\b)?")
#: A number pattern of its simple form: `(\d\d*)\s*`, optionally `(?:-\s*)?`, then `(?:a|b)`
#: of simple words starting with a letter (which no `\s`, `-` or digit before can take).
_NUMBER = re.compile(r"\(\\d\\d\*\)\\s\*(?P<dash>\(\?:-\\s\*\)\?)?\(\?:(?P<words>[^()]*)\)")


def _literals(pattern: str) -> list[tuple[bytes, int]] | None:
    """An alternative as `_text.c` literals with their rules (a set expands to one literal
    per letter), None when it is not of the simple form."""
    match = _SIMPLE.fullmatch(pattern)
    if match is None:
        return None
    body = match.group("body")
    if match.group("again") is not None and match.group("again") != body:
        return None
    rules = (NO_WORD_BEFORE if match.group("again") else 0) | \
        (BOUNDARY_AFTER if match.group("boundary") else 0)
    choices = [s or c for s, c in re.findall(r"\[([a-z0-9]+)\]|([a-z0-9 &])", body)]
    return [("".join(letters).encode(), rules) for letters in itertools.product(*choices)]


@dataclass(frozen=True)
class _Scan:
    """Patterns as `_text.c`'s tables: its literals (`words[starts[i]:starts[i + 1]]`), the
    pattern each stands for (`keys`), their rules, and (keywords) the literals by first byte
    (`order[by_first[c]:by_first[c + 1]]`) and which first two bytes start one (`pairs`, a
    bit per pair); for a number, whether a dash may follow it."""

    words: np.ndarray
    starts: np.ndarray
    keys: np.ndarray
    rules: np.ndarray
    by_first: np.ndarray
    order: np.ndarray
    pairs: np.ndarray
    dash: bool = False

    @classmethod
    def _of(cls, literals: list[tuple[bytes, int, int]], dash: bool = False) -> _Scan:
        firsts = np.array([word[0] for word, _, _ in literals], dtype=np.int64)
        order = np.argsort(firsts, kind="stable").astype(np.int32)
        pairs = np.zeros(1 << 16, dtype=bool)
        for word, _, _ in literals:
            if len(word) > 1:
                pairs[word[0] << 8 | word[1]] = True
            else:  # a one-byte literal, whatever byte follows it
                pairs[word[0] << 8:(word[0] + 1) << 8] = True
        return cls(np.frombuffer(b"".join(w for w, _, _ in literals), dtype=np.uint8).copy(),
                   np.cumsum([0, *(len(w) for w, _, _ in literals)]).astype(np.int64),
                   np.array([k for _, k, _ in literals], dtype=np.int32),
                   np.array([r for _, _, r in literals], dtype=np.uint8),
                   np.searchsorted(firsts[order], np.arange(257)).astype(np.int32), order,
                   np.packbits(pairs, bitorder="little"), dash)

    @staticmethod
    @functools.cache
    def of_keywords(patterns: tuple[tuple[re.Pattern, ...], ...]) -> _Scan | None:
        """The keyword patterns' scan; None when one alternative is not of the simple form."""
        literals = []
        for key, alternatives in enumerate(patterns):
            for alternative in alternatives:
                found = _literals(alternative.pattern)
                if found is None:
                    return None
                literals += [(word, key, rules) for word, rules in found]
        return _Scan._of(literals)

    @staticmethod
    @functools.cache
    def of_number(pattern: re.Pattern) -> _Scan | None:
        """A number pattern's scan; None when it is not of the simple form."""
        match = _NUMBER.fullmatch(pattern.pattern)
        if match is None:
            return None
        literals = []
        for word in match.group("words").split("|"):
            found = _literals(word)
            if found is None or not all(w[:1].isalpha() and not r & NO_WORD_BEFORE
                                        for w, r in found):
                return None
            literals += [(w, 0, r) for w, r in found]
        return _Scan._of(literals, dash=match.group("dash") is not None)

    def keywords(self, text: bytes, count: int) -> tuple[np.ndarray, np.ndarray]:
        """(flags: a row per pattern, a column per text; the texts `re` must decide)."""
        flags = np.zeros((int(self.keys.max()) + 1, count))
        undecided = np.zeros(count, dtype=np.uint8)
        tables = (self.words, self.starts, self.keys, self.rules, self.by_first, self.order,
                  self.pairs, flags, undecided)
        _library().text_keywords(text, len(text), count, *map(native.address, tables))
        return flags, np.flatnonzero(undecided)

    def numbers(self, text: bytes, count: int) -> tuple[np.ndarray, np.ndarray]:
        """(each text's first number's [start, end), -1 for none; the texts `re` must
        decide)."""
        spans = np.empty((count, 2), dtype=np.int64)
        undecided = np.zeros(count, dtype=np.uint8)
        at = native.address
        _library().text_numbers(text, len(text), count, int(self.dash), at(self.words),
                                at(self.starts), at(self.rules), len(self.rules), at(spans),
                                at(undecided))
        return spans, np.flatnonzero(undecided)


@functools.cache
def _library() -> ctypes.CDLL:
    """`_text.c`, loaded once per process."""
    lib = native.load(Path(__file__).parent, "_text")
    pointer, size = ctypes.c_void_p, ctypes.c_int64
    lib.text_keywords.argtypes = [ctypes.c_char_p, size, size, *[pointer] * 7, pointer,
                                  pointer]
    lib.text_keywords.restype = None
    lib.text_numbers.argtypes = [ctypes.c_char_p, size, size, ctypes.c_int32, pointer, pointer,
                                 pointer, ctypes.c_int32, pointer, pointer]
    lib.text_numbers.restype = None
    return lib


def _found(text: str, alternatives: tuple[re.Pattern, ...]) -> float:
    """1.0 when one of the alternatives matches the text (a loop: `any` over a generator
    cost more than the search for one title)."""
    for pattern in alternatives:
        if pattern.search(text):
            return 1.0
    return 0.0


@functools.cache
def _flag_names(prefix: str) -> tuple[str, ...]:
    """The keyword flags' column names (formatted once: 17 f-strings cost 1.5 µs a listing)."""
    return tuple(f"{prefix}_{key}" for key in _KEYWORDS)


def _keyword_flags(table: MutableMapping, texts: _Joined, prefix: str) -> None:
    """A flag per keyword and the text's length."""
    for name, flags in zip(_flag_names(prefix), texts.flags(_KEYWORD_PATTERNS), strict=True):
        table[name] = flags  # a DataFrame's `update` is not a dict's
    table[f"{prefix}_length"] = texts.lengths


def add_title_features(table: MutableMapping) -> MutableMapping:
    """Add TITLE_FEATURES from the `name` column: keyword flags, length, numbers of
    bedrooms/guests the title states (NaN when it states none)."""
    titles = _Joined(_texts(table["name"]))
    _keyword_flags(table, titles, "title")
    table["title_bedrooms"] = titles.first_numbers(_BEDROOMS)
    table["title_guests"] = titles.first_numbers(_GUESTS)
    return table


#: Airbnb's listing card, which Inside Airbnb's files of about 2023 to early 2024 carry in
#: `name` instead of the host's title, the same English card in every city:
#: "Rental unit in Austin · ★4.85 · 2 bedrooms · 3 beds · 1.5 shared baths". A name is a card
#: when its first part is "<property type> in <place>" and a later part is a rating, bedrooms,
#: beds or baths; a file carries cards when at least CARD_SHARE of its names are cards.
CARD_SHARE = 0.5
CARD_SEPARATOR = " · "
_CARD_HEAD = re.compile(r"^(?P<kind>.+?) in .+$")
_CARD_PARTS = {
    "rating": re.compile(r"^★(?P<n>\d(?:\.\d+)?|new)$"),
    "bedrooms": re.compile(r"^(?P<n>\d+) bedrooms?$|^(?P<studio>studio)$"),
    "beds": re.compile(r"^(?P<n>\d+) beds?$"),
    "baths": re.compile(r"^(?:(?P<n>\d+(?:\.\d+)?) )?(?P<kind>shared |private )?"
                        r"(?P<half>half-)?baths?$"),
}
#: What the model reads from a card. The rating reflects reviews, so only a feature set that
#: uses review history (`existing`) reads it; property type is categorical.
CARD_FEATURES = ("card_property_type", "card_bedrooms", "card_beds", "card_baths",
                 "card_shared_bath")
CARD_RATING = "card_rating"


def parse_card(name: Any) -> dict[str, Any] | None:
    """The facts of one listing card (None when `name` is no card): property type, bedrooms
    (a studio has 0), beds, baths (a half-bath is 0.5), whether they are shared, and the
    rating (NaN for "★New")."""
    if not isinstance(name, str) or CARD_SEPARATOR not in name:
        return None
    head, *parts = name.strip().split(CARD_SEPARATOR)
    kind = _CARD_HEAD.match(head)
    facts: dict[str, Any] = {"card_property_type": kind.group("kind").strip() if kind else None,
                             "card_bedrooms": np.nan, "card_beds": np.nan, "card_baths": np.nan,
                             "card_shared_bath": np.nan, CARD_RATING: np.nan}
    found = False
    for part in (p.strip().lower() for p in parts):
        for key, pattern in _CARD_PARTS.items():
            match = pattern.match(part)
            if match:
                found = True
                _read_card_part(facts, key, match)
                break
    return facts if kind and found else None


def _read_card_part(facts: dict[str, Any], key: str, match: re.Match) -> None:
    number = match.group("n")
    if key == "rating":
        facts[CARD_RATING] = np.nan if number == "new" else float(number)
    elif key == "bedrooms":
        facts["card_bedrooms"] = 0.0 if match.group("studio") else float(number)
    elif key == "beds":
        facts["card_beds"] = float(number)
    else:
        facts["card_baths"] = 0.5 if match.group("half") and not number else float(number or 1)
        facts["card_shared_bath"] = 1.0 if match.group("kind") == "shared " else 0.0


def card_share(names: Any) -> float:
    """The share of `names` that are listing cards (how a file is recognised as carrying them)."""
    names = list(names)
    return sum(parse_card(n) is not None for n in names) / len(names) if names else 0.0


def add_card_features(table: MutableMapping, rating: bool = False) -> MutableMapping:
    """Add CARD_FEATURES (and CARD_RATING when `rating`) from the `name` column: None/NaN for
    a name that is no card (an ordinary title: the model's imputers fill it)."""
    cards = [parse_card(n) or {} for n in table["name"]]
    table["card_property_type"] = np.array([c.get("card_property_type") for c in cards],
                                           dtype=object)
    for column in (*CARD_FEATURES[1:], *((CARD_RATING,) if rating else ())):
        table[column] = np.array([c.get(column, np.nan) for c in cards], dtype=float)
    return table


#: Amenities that move the price most on the 2022-01-07 detailed file (absolute correlation
#: with log price among amenities 2-98% of listings have), as patterns on the lower-cased
#: amenity, because Airbnb's wording varies ("Fast wifi – 52 Mbps", "TV with standard cable").
AMENITY_FLAGS = {
    "kitchen": r"^kitchen$", "bedroom_lock": r"lock on bedroom door", "dishwasher": r"dishwasher",
    "oven": r"\boven\b", "cooking_basics": r"cooking basics", "dryer": r"^dryer|\bdryer\b",
    "washer": r"^washer|\bwasher\b", "bathtub": r"bathtub", "stove": r"stove",
    "children": r"high chair|children|crib|changing table|baby",
    "cable_tv": r"cable", "fireplace": r"fireplace", "bbq": r"bbq|barbecue",
    "private_entrance": r"private entrance", "microwave": r"microwave",
    "coffee_maker": r"coffee maker|espresso|nespresso", "patio": r"patio|balcony",
    "workspace": r"workspace", "freezer": r"freezer", "games": r"board games|game console",
    "outdoor": r"outdoor furniture|outdoor dining|garden|backyard", "mini_fridge": r"mini fridge",
    "paid_parking": r"paid parking", "tv": r"\btv\b", "elevator": r"elevator",
    "air_conditioning": r"air conditioning", "sauna": r"sauna|hot tub|pool",
}
_AMENITIES = {k: re.compile(v) for k, v in AMENITY_FLAGS.items()}
DETAIL_FEATURES = ("amenities_count", *(f"amenity_{k}" for k in AMENITY_FLAGS),
                   *(f"description_{k}" for k in TITLE_KEYWORDS), "description_length",
                   "description_m2")


def amenity_list(value: Any) -> list[str]:
    """Amenities as lower-cased strings, from a list (a request) or the JSON text the detailed
    file holds; missing or unreadable -> no amenities."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if not isinstance(value, list | tuple | np.ndarray):
        return []
    return [str(a).strip().lower() for a in value]


def add_detail_features(table: MutableMapping) -> MutableMapping:
    """Add DETAIL_FEATURES from `amenities` and `description`: amenity count and flags,
    description keyword flags and length, and the floor area the description states (m²)."""
    lists = [amenity_list(v) for v in table["amenities"]]
    table["amenities_count"] = np.array([float(len(a)) for a in lists])
    for key, pattern in _AMENITIES.items():
        table[f"amenity_{key}"] = np.array([float(any(pattern.search(a) for a in amenities))
                                            for amenities in lists])
    descriptions = _Joined(_texts(table["description"]))
    _keyword_flags(table, descriptions, "description")
    area = descriptions.first_numbers(_SQUARE_METRES)
    table["description_m2"] = np.where(area < 1000, area, np.nan)
    return table
