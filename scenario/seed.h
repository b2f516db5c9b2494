/* SPDX-License-Identifier: MIT */
/*
 * The seed topology (issue 6): one PASID-capable device shared by the host
 * and two VMs, a second device given to VM2, and guest SVA on top, built
 * on SMMUv3 or VT-d through the public API and the Linux ABI only
 * (ionest_open / ionest_ioctl on /dev/iommu and the VFIO cdevs), with
 * every guest structure written in the VM's RAM in the hardware's format
 * (scenario/guest.h). One iommufd holds everything, as one VMM process
 * managing both VMs would; each VM has its own IOAS (its RAM at its GPA),
 * fault queue and, on SMMUv3, vIOMMU and vEVENTQ.
 *
 * The topology as the issue gives it:
 *   RID1 (PASID-capable):  RID -> host IOVA domain
 *                          PASID x -> VM1's GPA domain
 *                          PASID y -> VM2's GPA domain
 *   RID2:                  RID -> VM2's GPA domain
 *   guest SVA, each a nested HWPT with its own stage 1 in its VM's RAM:
 *     VM1 processes on PASIDs a and b of RID1,
 *     VM2 processes on PASID c of RID1 and PASID a of RID2.
 *
 * Paths (seed_path names), with x=8, y=9, a=1, b=2, c=3:
 *   host       RID1             host IOVA domain (host buffer)
 *   vm1        RID1 PASID x     VM1's GPA domain
 *   vm2        RID1 PASID y     VM2's GPA domain
 *   vm2.dev2   RID2             VM2's GPA domain
 *   vm1.proc1  PASID a          VM1 stage 1 over VM1's stage 2
 *   vm1.proc2  PASID b          VM1 stage 1 over VM1's stage 2
 *   vm2.proc1  PASID c          VM2 stage 1 over VM2's stage 2
 *   vm2.proc2  RID2 PASID a     VM2 stage 1 over VM2's stage 2
 *
 * VT-d realises it as written (spec/vtd.md §11, iommufd-uapi.md §6 PASID):
 * every PASID entry carries its own second-stage pointer and DID, so the
 * host attaches per PASID. Host domain: a second-stage paging HWPT (with
 * ALLOC_PASID) on RID1. VM GPA domains: one NEST_PARENT|ALLOC_PASID HWPT
 * per VM on its IOAS, attached to RID1 PASID x / y (and to RID2's RID for
 * VM2). Guest SVA: one nested HWPT (IOMMU_HWPT_DATA_VTD_S1, the process's
 * x86-64 first stage in guest RAM) per process, on its VM's parent,
 * attached to RID1 PASIDs a, b, c and RID2 PASID a (PGTT=nested entries).
 *
 * SMMUv3 cannot (spec/smmuv3.md §4, §10): the stage 2 (VMID, S2TTB) is in
 * the STE, one per StreamID, and a nested STE hands the whole CD table -
 * every SubstreamID - to one guest. So one StreamID can serve PASIDs of
 * the host and of two VMs only with host-owned stage-1 CDs, and guest SVA
 * needs a stream the VM owns whole. A real VMM on SMMUv3 therefore uses
 * functions of their own for the VMs' SVA (SR-IOV style) and keeps the
 * PASID sharing single-stage:
 *   RID1 (01:00.0, the host's): STE stage 1, host CD table.
 *     RID -> host IOVA domain (stage-1 paging HWPT, ALLOC_PASID);
 *     PASID x / y -> a stage-1 paging HWPT (ALLOC_PASID) on VM1's /
 *     VM2's IOAS: the VM's GPA space as the PASID's only stage (a CD
 *     holds only stage 1).
 *   RID1.1 (01:00.1) whole to VM1, RID1.2 (01:00.2) whole to VM2, RID2
 *   (02:00.0) whole to VM2: each a vDEVICE (vSID) on its VM's vIOMMU
 *   (over the VM's NEST_PARENT stage 2) and one nested HWPT made from the
 *   guest's STE words, whose CD table in guest RAM holds the processes:
 *     RID1.1: CD a (vm1.proc1, ASID 1), CD b (vm1.proc2, ASID 2), no-PASID
 *             traffic terminated (S1DSS);
 *     RID1.2: CD c (vm2.proc1, ASID 1), no-PASID traffic terminated;
 *     RID2:   CD a (vm2.proc2, ASID 2), no-PASID traffic S1-bypassed, so
 *             RID2's RID is in VM2's GPA domain (vm2.dev2).
 * Stage-1 invalidation is the guest's TLBI_NH_VA (its ASID) through the
 * vIOMMU; faults reach the VM's vEVENTQ with the vSID.
 *
 * Each path has SEED_PAGES data pages mapped at its input address and
 * SEED_SPARE spare pages right after, not mapped on the path (checks use
 * them: retargets, page requests), all in its VM's RAM. Guest tables and
 * CD tables live in the first SEED_TABLES bytes of each VM's RAM; data
 * after that.
 *
 * Not thread-safe; one seed per thread. Everything is freed by seed_free.
 */
#ifndef IONEST_SCENARIO_SEED_H
#define IONEST_SCENARIO_SEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <ionest/ionest.h>

#include "pt/pt.h"
#include "scenario/guest.h"

#define SEED_PASID_A 1u
#define SEED_PASID_B 2u
#define SEED_PASID_C 3u
#define SEED_PASID_X 8u
#define SEED_PASID_Y 9u

#define SEED_HOST_IOVA 0x100000ull /* the host buffer's IOVA */
#define SEED_VM1_GPA 0x40000000ull
#define SEED_VM2_GPA 0x80000000ull
#define SEED_RAM (4ull << 20) /* bytes of RAM per VM */
#define SEED_TABLES (1ull << 20) /* of which for guest tables */
#define SEED_PAGES 4u /* data pages mapped on each path */
#define SEED_SPARE 4u /* spare pages after them */
/* Input addresses of the guest processes (stage-1 IOVAs). */
#define SEED_PROC_IOVA(n) (0x1000000000ull * (n))

/* Owners: the host and the VMs. */
enum { SEED_HOST = 0, SEED_VM1 = 1, SEED_VM2 = 2, SEED_OWNERS = 3 };

struct seed_opts {
	const char *iommu; /* "smmuv3" (also for NULL) or "vtd" */
	enum ionest_nesting nesting; /* AUTO: what the model can do */
	FILE *log; /* one line per step, or NULL */
};

struct seed_device {
	char name[8]; /* "RID1", "RID1.1", "RID1.2", "RID2" */
	uint32_t rid; /* bus << 8 | devfn */
	int dev; /* machine device: /dev/vfio/devices/vfio<dev> */
	int cdev; /* its open cdev, bound to the iommufd */
	uint32_t dev_id; /* iommufd DEVICE id */
	int owner; /* SEED_HOST (shared) or the VM it is assigned to */
	uint64_t vsid; /* SMMUv3: the VM's StreamID for it (vDEVICE) */
	bool pri;
};

enum seed_dom_kind {
	SEED_DOM_PAGING, /* a single-stage, host-managed domain */
	SEED_DOM_PARENT, /* a VM's stage 2 (NEST_PARENT) */
	SEED_DOM_NESTED, /* guest stage 1 over a parent */
};

struct seed_domain {
	char name[16]; /* "domain1", ..., "nested1", ... */
	char label[32]; /* "host, IOVA", "vm1, GPA", "vm1.proc1", ... */
	enum seed_dom_kind kind;
	int owner;
	int parent; /* NESTED: index of its parent domain, else -1 */
	uint32_t hwpt_id;
	const char *format; /* what translates: "stage 1", ... */
};

/* A device's RID or PASID translating through a domain. */
struct seed_attach {
	int device; /* index in seed.devices */
	uint32_t pasid; /* IONEST_NO_PASID: the RID */
	int domain; /* index in seed.domains */
	int path; /* index in seed.paths, or -1 */
	/* SMMUv3: an entry of the guest's CD table behind the nested STE,
	 * not a host attachment. */
	bool guest_cd;
};

struct seed_path {
	const char *name;
	int owner; /* SEED_HOST, SEED_VM1, SEED_VM2 */
	struct vm *vm; /* RAM holding its data (the host buffer for host) */
	int device; /* index in seed.devices */
	int dev; /* machine device index */
	uint32_t rid;
	uint32_t pasid; /* or IONEST_NO_PASID */
	const char *iommu; /* the IOMMU instance's name */
	int domain; /* index in seed.domains */
	bool nested;
	struct pt *s1; /* nested: the guest's stage 1, else NULL */
	uint16_t asid; /* SMMUv3 nested: the guest's ASID */
	uint32_t nested_hwpt; /* nested: the HWPT to invalidate (VT-d) */
	/* [iova, iova + len) is mapped to [gpa, gpa + len), host memory
	 * mem (gpa: GPA in the VM, the IOVA itself for the host path). */
	uint64_t iova, len, gpa;
	uint8_t *mem;
	/* SEED_SPARE pages after the range: input addresses not mapped on
	 * the path, and RAM of the path's own, mapped on no path. */
	uint64_t spare_iova, spare_gpa;
	uint8_t *spare_mem;
};

/* Page responses that reached the endpoints (PCIe PRG responses). */
struct seed_page_resps {
	uint64_t n; /* responses so far */
	uint32_t last_sid, last_ssid, last_prgi, last_code;
	bool last_ssid_valid;
};

#define SEED_MAX_DEVICES 4
#define SEED_MAX_DOMAINS 16
#define SEED_MAX_ATTACH 16
#define SEED_MAX_PATHS 8
#define SEED_MAX_PROCS 4

struct seed {
	struct seed_opts opts;
	char model[8]; /* "smmuv3" or "vtd" */
	char iommu[16]; /* its instance name */
	struct ionest_machine *m;
	struct ionest_hw *hw; /* owned by the machine */
	int nesting; /* ionest_machine_nesting(): HW or SHADOW */
	int fd; /* the iommufd */

	struct vm ram[SEED_OWNERS]; /* [SEED_HOST] is the host buffer */
	struct vm tables[SEED_OWNERS], data[SEED_OWNERS]; /* views */
	uint32_t ioas[SEED_OWNERS];
	uint32_t fault_id[SEED_OWNERS];
	int fault_fd[SEED_OWNERS]; /* VMs only; -1 */
	uint32_t viommu[SEED_OWNERS]; /* SMMUv3, VMs only */
	uint32_t veventq_id[SEED_OWNERS];
	int veventq_fd[SEED_OWNERS]; /* SMMUv3, VMs only; -1 */

	struct seed_device devices[SEED_MAX_DEVICES];
	int ndevices;
	struct seed_domain domains[SEED_MAX_DOMAINS];
	int ndomains;
	struct seed_attach attach[SEED_MAX_ATTACH];
	int nattach;
	struct seed_path paths[SEED_MAX_PATHS];
	int npaths;

	struct pt s1[SEED_MAX_PROCS]; /* the processes' stage 1s */
	int ns1;
	struct vm_cdtab cdtab[SEED_MAX_DEVICES]; /* SMMUv3, per device */
	struct seed_page_resps resps; /* updated by the model's thread */
};

/*
 * Build the seed topology. On failure returns -errno with *out NULL and,
 * if @err is not NULL, "STEP: what failed" in it. -EINVAL: unknown
 * opts->iommu; -EOPNOTSUPP: the nesting mode is refused by the model.
 */
int seed_new(const struct seed_opts *opts, struct seed **out, char *err,
	     size_t errlen);
/* Close every fd, free the machine and the RAM. NULL is fine. */
void seed_free(struct seed *s);

/* Path @name (a copy in *out); -ENOENT if there is none. */
int seed_path(struct seed *s, const char *name, struct seed_path *out);
/* The path itself, or NULL. */
struct seed_path *seed_find_path(struct seed *s, const char *name);

struct ionest_machine *seed_machine(const struct seed *s);
int seed_iommufd(const struct seed *s);
/* VM @owner's fault queue fd / vEVENTQ fd (SMMUv3), or -1. */
int seed_fault_fd(const struct seed *s, int owner);
int seed_veventq_fd(const struct seed *s, int owner);
/* "host", "vm1", "vm2". */
const char *seed_owner_name(int owner);
/* "hw", "shadow" (or "auto"). */
const char *seed_nesting_name(int mode);

#endif
