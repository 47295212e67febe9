/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xl-reloc: the command (main.c), on the real hypervisor. */
#include "mig/hv.h"
#include "xl-reloc.h"

int
main(int argc, char **argv)
{
	return xlreloc_main(argc, argv, &mig_hv_libxl_ops);
}
