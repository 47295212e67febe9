#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Sums the cmocka results of every test log under a build directory and
# prints one closing line, "LABEL: N passed, N failed, N skipped" (LABEL:
# unit by default), so that one number covers all test programs (automake's
# own summary counts programs only); "skipped" counts the test programs
# that exited 77 (tests/common/need.sh).  Usage: summary.sh [BUILDDIR [LABEL]]
set -eu
dir=${1:-.}
label=${2:-unit}
skipped=$(find "$dir/tests" -name '*.trs' -exec cat {} + 2>/dev/null |
    grep -c '^:test-result: SKIP' || true)
find "$dir/tests" -name '*.log' ! -name 'test-suite.log' -exec cat {} + 2>/dev/null |
awk -v label="$label" -v s="$skipped" '
	/^\[  PASSED  \] [0-9]+ test/ { p += $4 }
	/^\[  FAILED  \] [0-9]+ test/ { f += $4 }
	END { printf "%s: %d passed, %d failed, %d skipped\n", label, p, f, s; exit (f > 0) }
'
