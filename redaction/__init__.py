"""Offline PII scrubbing on Presidio with clinical recognizers, consistent pseudonyms, audit and recall evaluation.

Knows no pack: packs call `scrub_records` / `scrub_file` and read the audit it returns.
"""

import os as _os

# tldextract (used by Presidio's e-mail recognizer) fetches the public suffix list at import unless told not to;
# this must run before presidio is imported anywhere in the package.
_os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
