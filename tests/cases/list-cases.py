#!/usr/bin/python3
"""Prints the name of every dialogue case (*.smtp beside this file), one a line,
for meson.build to make one test of each."""
import os

here = os.path.dirname(os.path.abspath(__file__))
for name in sorted(os.listdir(here)):
    if name.endswith('.smtp'):
        print(name[:-len('.smtp')])
