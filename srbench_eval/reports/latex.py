"""LaTeX that ``pdflatex`` compiles as it is: text escaped to ASCII, the tabular inside a ``table``
environment with a caption and a label, the notes as paragraphs under the tabular (not inside it).

* :func:`tex_text` escapes the ten characters LaTeX reserves and replaces every non-ASCII character
  the tables use (``α``, ``→``, ``±``, ``↑↓``, ``†``, ``×``, superscript digits ...) by its LaTeX
  command; any other non-ASCII character falls back to its ASCII decomposition (``é`` -> ``e``) or
  ``?``, so pdflatex never stops on ``Unicode character ... not set up for use with LaTeX``.
* :func:`table_environment` wraps the tabular in ``\\resizebox{min(width, \\linewidth)}{!}{...}``
  (graphicx): a table wider than the column is scaled down rather than overfull, a narrower one is
  left at its natural size. The notes (protocol, daggers, ``ns``) are ``\\footnotesize`` ragged-right
  paragraphs under it, so a long note no longer widens the last column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

RESERVED = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}

# Non-ASCII characters of the tables, notes and labels, as LaTeX that needs at most amssymb (\checkmark).
UNICODE = {
    "↑": r"$\uparrow$",
    "↓": r"$\downarrow$",
    "→": r"$\rightarrow$",
    "←": r"$\leftarrow$",
    "×": r"$\times$",
    "±": r"$\pm$",
    "∞": r"$\infty$",
    "α": r"$\alpha$",
    "β": r"$\beta$",
    "γ": r"$\gamma$",
    "λ": r"$\lambda$",
    "μ": r"$\mu$",
    "σ": r"$\sigma$",
    "†": r"$^\dagger$",
    "‡": r"$^\ddagger$",
    "–": "--",
    "—": "---",
    "−": "$-$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "≈": r"$\approx$",
    "≠": r"$\neq$",
    "·": r"$\cdot$",
    "…": r"\ldots{}",
    "°": r"$^\circ$",
    "✓": r"\checkmark{}",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    **{sup: f"$^{{{d}}}$" for d, sup in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")},
}


def tex_text(text: str) -> str:
    """``text`` as pdflatex-safe LaTeX: reserved characters escaped, non-ASCII ones replaced
    (:data:`UNICODE`, else the ASCII letters of their NFKD decomposition, else ``?``)."""
    out = []
    for ch in text:
        if ch in RESERVED:
            out.append(RESERVED[ch])
        elif ch in UNICODE:
            out.append(UNICODE[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            ascii_form = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append("".join(RESERVED.get(c, c) for c in ascii_form) or "?")
    return "".join(out)


def label_of(text: str) -> str:
    """A ``\\label`` key: lower-case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "table"


def table_environment(
    tabular: Sequence[str], notes: Sequence[str], caption: str, label: str, checkmarks: bool = False
) -> str:
    """The LaTeX lines of ``tabular`` (``\\begin{tabular}`` ... ``\\end{tabular}``) inside
    ``\\begin{table}`` with ``caption`` and ``\\label{label}``, scaled down to ``\\linewidth`` when
    wider, and ``notes`` (LaTeX already) as footnote-size paragraphs below it."""
    packages = "booktabs,graphicx" + (",amssymb" if checkmarks else "")
    lines = [
        f"% requires \\usepackage{{{packages}}}",
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{caption}}}",
        rf"\label{{{label}}}",
        r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
        *tabular,
        "}",
    ]
    if notes:
        lines.append(r"\par\smallskip{\footnotesize\raggedright\sloppy")
        lines += [f"{n}\\par" for n in notes]
        lines.append("}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


__all__ = ["RESERVED", "UNICODE", "label_of", "table_environment", "tex_text"]
