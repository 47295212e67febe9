#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Sums the cmocka results of every test log under a build directory and
# prints one closing line, "LABEL: N passed, N failed" (LABEL: unit by
# default), so that one number covers all test programs (automake's own
# summary counts programs only).  Usage: summary.sh [BUILDDIR [LABEL]]
set -eu
dir=${1:-.}
label=${2:-unit}
find "$dir/tests" -name '*.log' ! -name 'test-suite.log' -exec cat {} + 2>/dev/null |
awk -v label="$label" '
	/^\[  PASSED  \] [0-9]+ test/ { p += $4 }
	/^\[  FAILED  \] [0-9]+ test/ { f += $4 }
	END { printf "%s: %d passed, %d failed\n", label, p, f; exit (f > 0) }
'
