/* SPDX-License-Identifier: GPL-2.0-or-later */
/* relocd with the real hypervisor: libxl. */
#include "mig/hv.h"
#include "relocd.h"

int
main(int argc, char **argv)
{
	return relocd_main(argc, argv, &mig_hv_libxl_ops);
}
