"""What a new campaign may be called.

A campaign's name is typed by people and shown everywhere: the console's tables, the
API's paths (``/api/campaigns/{name}/start``), report rows and CSV cells, log lines,
the watched folder ``ROOT/<campaign>/``. The store took any string, so ``PUT
/api/admin/campaigns/%00`` made a campaign whose name showed as nothing, a newline in
one broke the CLI's tables and log lines, and one holding ``/`` could be made on the
command line but never reached through the API (``%2F`` in a path is not a segment's
character) nor watched as a folder. The rule is checked where every way in meets (the
store), and only for a name not yet stored, so a campaign made before stays usable.
"""

from __future__ import annotations

import unicodedata

from trunkline.dialer.errors import StoreError

#: The longest name; the API's path parameter has the same bound.
MAX_CAMPAIGN_NAME = 200

#: Unicode categories refused anywhere in a name: controls (NUL, newline, tab, DEL),
#: format characters (zero-width spaces and joiners, bidirectional overrides: two
#: names that look the same), line and paragraph separators, surrogates, private use,
#: unassigned code points.
_REFUSED = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def check_campaign_name(name: object) -> str:
    """``name`` if a new campaign may take it, else a :class:`StoreError` saying why."""
    if not isinstance(name, str) or not name.strip():
        raise StoreError("a campaign needs a name")
    if len(name) > MAX_CAMPAIGN_NAME:
        raise StoreError(f"a campaign's name has at most {MAX_CAMPAIGN_NAME} characters "
                         f"(got {len(name)})")
    if name != name.strip():
        raise StoreError(f"campaign name {name!r}: no spaces before or after it")
    for char in name:
        if unicodedata.category(char) in _REFUSED:
            raise StoreError(f"campaign name {name!r}: the character U+{ord(char):04X} "
                             f"({unicodedata.name(char, 'a control character')}) is not "
                             "allowed")
    if "/" in name or "\\" in name:
        raise StoreError(f"campaign name {name!r}: '/' and '\\' are not allowed (the "
                         "name is a path segment of the API and a watched folder's name)")
    if name in (".", ".."):
        raise StoreError(f"campaign name {name!r} is not allowed (a folder's name)")
    return name
