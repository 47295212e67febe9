/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The witness's disk writer (diskw.c): numbered, checksummed blocks written
 * durably to the guest's disks, and on cue the whole disks read back against
 * what the guest's own memory says they must hold.
 */
#ifndef WITNESS_DISKW_H
#define WITNESS_DISKW_H

/* Starts writing RATE blocks a second over NDISKS disks (PREFIXa...,
 * /dev/xvda... if PREFIX is NULL); a RATE of 0 starts nothing (the
 * witness without a disk). */
void	diskw_start(long rate, long ndisks, const char *prefix);
/* The "V" cue: read every disk back and print one verdict line. */
void	diskw_verify_cue(void);
/* Every 10 ticks: the writer's progress line, if it runs. */
void	diskw_progress(unsigned long long);
/* dom0's side, "init fill FILE": FILE's initial content, block by block. */
int	diskw_fill(const char *path);

#endif
