#!/usr/bin/env python3
"""Prints every configuration key of gateway/config.c's schema tables as
GROUP KEY, one per line ("imap:" and "staff:" for the named groups), so
tests can hold the example config and ticketgate.conf(5) to it."""
import re, sys
text = open(sys.argv[1]).read()
for group, key in re.findall(r'\{"([a-z]+:?)", "([a-z0-9_]+)", T_', text):
    print(group, key)
