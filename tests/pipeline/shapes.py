"""The parser-hostile sources of issue 12: what once crashed, stalled or bloated libcst's parser."""

from __future__ import annotations

# name -> source. Each crashed libcst 1.x (SIGSEGV), ran for minutes or took gigabytes; the
# comment says what CPython's own parser does with it (3.11; 3.13 compiles a few of the chains).
SHAPES: dict[str, str] = {
    # CPython: "too complex" (parser stack) -> not analysed at once
    "continued_unary.py": "x = \\\n" + "-\\\n" * 9000 + "1\n",
    "bracketed_unary.py": "x = (\n" + "-\n" * 10000 + "1)\n",
    "unary.py": "x = " + "-" * 100_000 + "1\n",
    "lambdas.py": "x = " + "lambda: " * 5_000 + "1\n",
    # CPython: recursion limit while compiling -> not analysed at once (3.13: some compile, and
    # libcst then runs into the time budget)
    "attribute_lines.py": "x = (a\n" + "    .b\n" * 20000 + ")\n",
    "plus_4000.py": "x = (1\n" + "+ 1\n" * 4000 + ")\n",
    "plus_20000.py": "x = (1\n" + "+ 1\n" * 20000 + ")\n",
    "subscripts.py": "x = (a\n" + "[0]\n" * 5000 + ")\n",
    "calls.py": "x = (f\n" + "()\n" * 10000 + ")\n",
    "chain.py": "x = " + " + ".join(["1"] * 5_000) + "\n",
    "attributes.py": "x = a" + ".b" * 5_000 + "\n",
    # CPython: SyntaxError "too many nested parentheses" -> FRK001 (libcst would crash)
    "parens.py": "x = " + "(" * 10_000 + "1" + ")" * 10_000 + "\n",
    # valid Python that libcst rejects -> not analysed, never FRK001
    "parenthesised_target.py": "(x): int = 1\n",
    "implicit_concatenation.py": "x = (" + " 'a'\n" * 20000 + ")\n",
}

# Plain size: CPython compiles them in seconds; libcst needs gigabytes and minutes.
GENERATED_1MB = "x = a.b(c, d[1], e=2)\n" * 47662
GENERATED_10MB = "x = a.b(c, d[1], e=2)\n" * 476000  # just under forklint's 10 MB file cap
ONE_LONG_LINE = "f(" + "a," * 500_000 + ")\n"  # 1 MB
SIZES: dict[str, str] = {
    "generated_1mb.py": GENERATED_1MB,
    "generated_10mb.py": GENERATED_10MB,
    "long_line.py": ONE_LONG_LINE,
}

# Fine for both parsers: must be analysed.
FINE: dict[str, str] = {
    "deep_but_valid.py": "x = " + "(" * 150 + "1" + ")" * 150 + "\n",
    "long_but_flat.py": "x = [" + ", ".join(["1"] * 3_000) + "]\n",
    "brackets_in_strings.py": "x = '" + "(" * 300 + "'\n",
}
