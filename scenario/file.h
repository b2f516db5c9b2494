/* SPDX-License-Identifier: MIT */
/*
 * A machine file's scenario (the `scenario:` section, lib/machine's
 * struct mcfg_scenario) set up on its machine the way a VMM would, through
 * the iommufd ABI only: one iommufd; every device used bound through its
 * VFIO cdev.
 *
 * Host domains: an IOAS, each map a host buffer of its own (zeroed)
 * IOMMU_IOAS_MAP-ed at its IOVA, each device attached by RID to the IOAS
 * (the kernel's automatic paging domain).
 *
 * VMs: RAM (scenario/guest.h) mapped at its GPA in an IOAS of the VM's
 * own, a NEST_PARENT HWPT on it (the VM's stage 2), and per device a
 * guest stage 1 in the RAM:
 *   SMMUv3: a vIOMMU on the parent, a vDEVICE (virtual StreamID = the
 *     RID) per device, the device's CD table in guest RAM with one CD per
 *     PASID (the RID's stage 1 in CD 0, used for traffic without a PASID
 *     through S1DSS; then PASID 0 is not available), one nested HWPT from
 *     the guest's STE words, attached to the RID. The guest ASID of a
 *     device's n-th stage 1 is n + 1.
 *   VT-d: per (device, PASID) a nested HWPT (IOMMU_HWPT_DATA_VTD_S1, the
 *     x86-64 first stage in guest RAM) on the parent, attached to the RID
 *     or the PASID; SRE when a map is privileged.
 * Guest tables take RAM from its bottom (the bump allocator), so maps
 * should point at GPAs above what the tables use (a few pages per stage
 * 1) or outside the RAM (a stage-2 fault, on purpose).
 *
 * Errors are "FILE:LINE: PATH: what" like the loader's, from the line of
 * the scenario entry that could not be set up.
 */
#ifndef IONEST_SCENARIO_FILE_H
#define IONEST_SCENARIO_FILE_H

#include <stddef.h>
#include <ionest/ionest.h>

#include "machine/config.h"

struct scen_file;

/*
 * Set up @c's scenario (none: nothing but the iommufd) on @m, which
 * machine_config_build made from @c. 0 with *out, or -errno (message in
 * @err): -EINVAL (a scenario the machine cannot realise), -ENOMEM, or the
 * errno of the ioctl that failed.
 */
int scen_file_build(const struct machine_config *c, struct ionest_machine *m,
		    struct scen_file **out, char *err, size_t errlen);
/* Close the fds and free the buffers and RAM (before freeing @m). */
void scen_file_free(struct scen_file *s);

#endif
