"""Presidio's phone recognizer, with the same matches for less work. Presidio runs libphonenumber's matcher over the
whole text once per region (14 here), and the matcher parses every number-like stretch for each of them: in a
clinical note that is every vital sign ("HR 72", "T 37.2"), parsed 14 times. Here the stretches are found once,
with libphonenumber's own candidate pattern; a stretch with fewer digits than the shortest phone number of any
region is dropped, and each region's matcher runs on the stretch and the few characters around it that its
checks read (the character before, a time-stamp suffix after), and only for the regions whose shortest valid number
fits in the stretch's digits: a four-digit year is parsed as a German or Austrian number only, not 14 times."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata, phonenumbermatcher
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

BEFORE, AFTER = 1, 8  # the matcher reads one character before a candidate and a ":MM" time suffix after it


@lru_cache(maxsize=1)
def shortest_number() -> int:
    """Digits in the shortest possible national number of any region libphonenumber knows."""
    lengths = []
    for region in phonenumbers.SUPPORTED_REGIONS:
        desc = PhoneMetadata.metadata_for_region(region).general_desc
        lengths.extend(n for n in desc.possible_length if n > 0)
    return min(lengths)


@lru_cache(maxsize=64)
def shortest_valid(region: str) -> int:
    """Digits in the shortest valid national number of the region's country code. A number parsed for a region
    gets its country code and is then validated against every region sharing that code (US and Canada share 1), so
    the shortest of those counts. Parsing can only drop digits (a national prefix, a carrier code, an extension),
    never add them, so a stretch with fewer digits holds no valid number parsed for the region, unless it is written
    in international form (then the region it is parsed for does not matter)."""
    code = phonenumbers.country_code_for_region(region)
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
    found = (PhoneMetadata.metadata_for_region(r) for r in regions)
    return min(n for m in found if m is not None and m.general_desc for n in m.general_desc.possible_length if n > 0)


def _international(piece: str) -> bool:
    """Written with a country code: a plus, or an international dialling prefix (00, 011) first."""
    digits = "".join(ch for ch in piece if ch.isdigit())
    return "+" in piece or "\uff0b" in piece or digits.startswith(("00", "011"))


def regions_for(piece: str, regions: tuple[str, ...]) -> tuple[str, ...]:
    """The regions whose matcher could find a valid number in this piece of text."""
    if _international(piece):
        return regions
    digits = sum(ch.isdigit() for ch in piece)
    return tuple(r for r in regions if shortest_valid(r) <= digits)


def candidate_windows(text: str) -> list[tuple[int, int]]:
    """(start, end) of the text around each stretch that could hold a phone number."""
    stretches = [(m.start(), m.end(), m.group(0)) for m in phonenumbermatcher._PATTERN.finditer(text)]
    out = []
    for k, (start, end, value) in enumerate(stretches):
        if sum(ch.isdigit() for ch in value) < shortest_number():
            continue
        limit = stretches[k + 1][0] if k + 1 < len(stretches) else len(text)  # never a piece of the next stretch
        out.append((max(0, start - BEFORE), min(limit, end + AFTER)))
    return out


class WindowedPhoneRecognizer(PhoneRecognizer):
    """PhoneRecognizer whose matchers see only the windows around number-like stretches."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: object = None) -> list[RecognizerResult]:
        results = []
        regions = tuple(self.supported_regions)
        for lo, hi in candidate_windows(text):
            piece = text[lo:hi]
            for region in regions_for(piece, regions):
                for match in phonenumbers.PhoneNumberMatcher(piece, region, leniency=self.leniency):
                    results.append(self._result(lo + match.start, lo + match.end, match.raw_string, region))
        return EntityRecognizer.remove_duplicates(results)

    def _result(self, start: int, end: int, raw: str, region: str) -> RecognizerResult:
        """The result Presidio's own recognizer gives for this match."""
        return RecognizerResult(
            entity_type=self.supported_entities[0],
            start=start,
            end=end,
            score=self.SCORE,
            analysis_explanation=self._get_analysis_explanation(self._region_of(raw, region)),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )

    @staticmethod
    def _region_of(raw: str, region: str) -> str:
        try:
            return phonenumbers.region_code_for_number(phonenumbers.parse(raw)) or region
        except phonenumbers.NumberParseException:
            return region
