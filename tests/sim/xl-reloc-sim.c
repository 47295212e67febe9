/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xl-reloc on the simulated host, for the integration tests only: --direct
 * saves and restores take the hypervisor from RELOCD_SIM_DIR, as
 * relocd-sim does.
 */
#include "hv_sim.h"
#include "xl-reloc.h"

int
main(int argc, char **argv)
{
	return xlreloc_main(argc, argv, &hv_sim_ops);
}
