"""Classes of hostile input as hypothesis strategies, shared by the fuzz runs (docs/security.md, *Hostile
input*): generated, so that a run covers the class, not a list of the cases someone thought of."""

from __future__ import annotations

import sys

from hypothesis import strategies as st

from engpass.routing import ID_MAX

# Ids beyond PostgreSQL's integer (every id column) up to numbers no database type holds, and digit strings
# longer than Python converts to an int at all (4300 digits).
huge_ids = st.one_of(
    st.integers(min_value=ID_MAX + 1, max_value=10**40).map(str),
    st.integers(min_value=4301, max_value=6000).map(lambda digits: "9" * digits),
)

# JSON nested from a few levels to far beyond Python's recursion limit, in arrays, objects or both, with
# a value inside; the bodies stay under the 2 MB request limit.
_OPENERS = {"[": "]", '{"a":': "}"}
nested_json = st.builds(
    lambda depth, opener, inner: opener * depth + inner + _OPENERS[opener] * depth,
    st.one_of(
        st.integers(min_value=1, max_value=sys.getrecursionlimit() * 2),
        st.integers(min_value=sys.getrecursionlimit(), max_value=200_000),
    ),
    st.sampled_from(sorted(_OPENERS)),
    st.sampled_from(["1", '"x"', "null", "[]", "{}"]),
)

# JSON documents of every shape a form might be handed instead of an object of strings.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)

# Every decimal digit of Unicode (category Nd) but ASCII's: str.isdigit() and int() take them all.
non_ascii_digits = st.characters(categories=["Nd"], exclude_characters="0123456789")
