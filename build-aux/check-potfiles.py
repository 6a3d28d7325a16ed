#!/usr/bin/python3
"""Checks po/POTFILES.in against the tree (run by `meson test`, suite data).

Fails when a file under src/ that calls _( or N_( or a resources/**/*.ui file
with translatable="yes" is not listed, when a listed file does not exist, or
when the list is not sorted.
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
os.chdir(root)

with open("po/POTFILES.in", encoding="utf-8") as f:
    listed = [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]

problems = []
if listed != sorted(listed):
    problems.append("po/POTFILES.in is not sorted (LC_ALL=C sort)")
for dup in sorted({p for p in listed if listed.count(p) > 1}):
    problems.append("listed twice: " + dup)
for p in listed:
    if not os.path.isfile(p):
        problems.append("listed but missing: " + p)

gettext_call = re.compile(r"(?<![A-Za-z0-9_])(N?_|N?C_|g_dn?gettext|ngettext)\s*\(")
needed = []
for top, pattern in (("src", gettext_call), ("resources", re.compile(r'translatable\s*=\s*"yes"'))):
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if top == "src" and not name.endswith((".c", ".h")):
                continue
            if top == "resources" and not name.endswith(".ui"):
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                if pattern.search(f.read()):
                    needed.append(path)

for p in needed:
    if p not in listed:
        problems.append("has translatable strings but is not in po/POTFILES.in: " + p)

for p in problems:
    print(p)
print("%d files listed, %d with translatable strings found; %s"
      % (len(listed), len(needed), "FAIL" if problems else "ok"))
sys.exit(1 if problems else 0)
