#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Sums the cmocka results of every test log under a build directory and
# prints one closing line, "unit: N passed, N failed", so that one number
# covers all test programs (automake's own summary counts programs only).
set -eu
dir=${1:-.}
find "$dir/tests" -name '*.log' ! -name 'test-suite.log' -exec cat {} + 2>/dev/null |
awk '
	/^\[  PASSED  \] [0-9]+ test/ { p += $4 }
	/^\[  FAILED  \] [0-9]+ test/ { f += $4 }
	END { printf "unit: %d passed, %d failed\n", p, f; exit (f > 0) }
'
