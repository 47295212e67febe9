/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relocd on the simulated host, for the integration tests only: the same
 * daemon, with the hypervisor taken from RELOCD_SIM_DIR instead of libxl.
 */
#include "hv_sim.h"
#include "relocd.h"

int
main(int argc, char **argv)
{
	return relocd_main(argc, argv, &hv_sim_ops);
}
