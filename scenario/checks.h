/* SPDX-License-Identifier: MIT */
/*
 * The checks of the seed topology (scenario/seed.h), each an end-to-end
 * experiment through the public API and the Linux ABI that returns ok and
 * a one-line detail. They change the topology only transiently (a guest
 * mapping added or moved is put back and invalidated) so they can run in
 * any order, and each drains the fault queues and vEVENTQs it may fill.
 *
 *   dma.<path>         a DMA write and read on the path: exactly the
 *                      expected bytes of the expected RAM change (every
 *                      RAM compared), the read returns what is there
 *   isolation.<vm>     every path of the VM tries the other VM's GPAs and
 *                      IOVAs and the host's IOVAs, reads and writes, and
 *                      (nested paths) the guest maps its stage 1 to GPAs
 *                      outside its RAM: every access faults, no byte of
 *                      any RAM changes, no read returns foreign data
 *   stage1.<path>      the guest moves a mapped page to another GPA: DMA
 *                      still reaches the old page (TLB) until the guest's
 *                      invalidation (SMMUv3: TLBI_NH_VA with its ASID
 *                      through the vIOMMU; VT-d: HWPT_INVALIDATE with a
 *                      stage-1 entry), then the new one
 *   fault              a stage-1 translation fault reaches the VM:
 *                      SMMUv3: an F_TRANSLATION record in VM2's vEVENTQ
 *                      with RID2's vSID, the SubstreamID and the address;
 *                      VT-d (no vEVENTQ type; nested translation faults
 *                      reach userspace only as page requests): VM2's
 *                      fault queue with RID1's dev_id and PASID c
 *   page-request       vm1.proc1 touches an unmapped page: a page request
 *                      in VM1's fault queue (dev_id, PASID), the guest
 *                      maps the page, the VMM answers SUCCESS, the
 *                      endpoint gets it and the retried DMA lands
 *   page-request.invalid  vm2.proc1: answered INVALID, the endpoint gets
 *                      INVALID, nothing is written, the path still works
 *   msi                a device of VM2 writes its MSI: the machine's
 *                      doorbell gets it (SMMUv3: RID2 through its nested
 *                      STE's stage 2 at the SW_MSI window; VT-d: an
 *                      interrupt request at 0xFEE00000, never translated)
 *
 * Functions return true if the check passed; r is filled either way.
 */
#ifndef IONEST_SCENARIO_CHECKS_H
#define IONEST_SCENARIO_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "scenario/seed.h"

struct check_result {
	char name[40];
	bool ok;
	char detail[320];
};

bool check_dma(struct seed *s, const char *path, struct check_result *r);
bool check_isolation(struct seed *s, int owner, struct check_result *r);
bool check_stage1(struct seed *s, const char *path, struct check_result *r);
bool check_fault(struct seed *s, struct check_result *r);
bool check_page_request(struct seed *s, struct check_result *r);
bool check_page_request_invalid(struct seed *s, struct check_result *r);
bool check_msi(struct seed *s, struct check_result *r);

/* Every check above, in the order of the list; returns the number of
 * results written (at most @max; CHECKS_MAX is enough). */
#define CHECKS_MAX 24
int checks_run_all(struct seed *s, struct check_result *out, int max);

/* The IOMMU's counters (the model's, through ionest_counter_get), and
 * its driver's shadow-table work (zero with hardware nesting). */
struct seed_counters {
	uint64_t translate, tlb_hit, tlb_miss, walk, walk_read;
	uint64_t fault, event, page_request, invalidation;
	uint64_t shadow_sync, shadow_miss, shadow_fill, shadow_fault;
	uint64_t shadow_drop;
};
int seed_counters(const struct seed *s, struct seed_counters *c);

/* Answer every pending page request INVALID and empty every vEVENTQ;
 * returns the number of records drained. */
int checks_drain(struct seed *s);

#endif
