// SPDX-License-Identifier: MIT
/* The device TLB (ATC) of a PCI function with ATS (see atc.h). */
#include <stddef.h>
#include <string.h>
#include <ionest/hw.h>

#include "dev/atc.h"
#include "machine/machine.h"

void dev_atc_init(struct dev_atc *a)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
}

void dev_atc_fini(struct dev_atc *a)
{
	pthread_mutex_destroy(&a->lock);
}

uint64_t dev_atc_gen(struct dev_atc *a)
{
	uint64_t g;

	pthread_mutex_lock(&a->lock);
	g = a->gen;
	pthread_mutex_unlock(&a->lock);
	return g;
}

static bool covers(const struct dev_atc_entry *e, uint64_t iova)
{
	return (iova >> e->shift) == (e->va >> e->shift);
}

bool dev_atc_lookup(struct dev_atc *a, bool pv, uint32_t pasid, uint64_t iova,
		    uint32_t access, uint64_t *pa, uint64_t *size)
{
	uint32_t need = access & (IONEST_ACCESS_READ | IONEST_ACCESS_WRITE);
	bool hit = false;

	pthread_mutex_lock(&a->lock);
	for (unsigned i = 0; i < DEV_ATC_ENTRIES; i++) {
		const struct dev_atc_entry *e = &a->e[i];

		if (!e->valid || e->pv != pv || (pv && e->pasid != pasid) ||
		    !covers(e, iova) || (e->perm & need) != need)
			continue;
		*pa = e->pa;
		*size = 1ull << e->shift;
		a->hits++;
		hit = true;
		break;
	}
	pthread_mutex_unlock(&a->lock);
	return hit;
}

void dev_atc_fill(struct dev_atc *a, uint64_t gen, bool pv, uint32_t pasid,
		  uint64_t iova, uint64_t pa, uint64_t size, uint32_t perm)
{
	struct dev_atc_entry *e;
	unsigned shift;

	/* A translation completion covers a naturally aligned power of two
	 * of at least a page; anything else is not cached. */
	if (size < 4096 || (size & (size - 1)))
		return;
	shift = (unsigned)__builtin_ctzll(size);
	pthread_mutex_lock(&a->lock);
	if (a->gen == gen) {
		e = &a->e[a->next];
		a->next = (a->next + 1) % DEV_ATC_ENTRIES;
		*e = (struct dev_atc_entry){
			.va = iova & ~(size - 1),
			.pa = pa & ~(size - 1),
			.pasid = pv ? pasid : 0,
			.shift = (uint8_t)shift,
			.perm = (uint8_t)(perm & (IONEST_ACCESS_READ |
						  IONEST_ACCESS_WRITE)),
			.pv = pv,
			.valid = true,
		};
		a->fills++;
	}
	pthread_mutex_unlock(&a->lock);
}

static bool in_range(const struct dev_atc_entry *e, uint64_t addr,
		     uint64_t size)
{
	uint64_t last = e->va + ((1ull << e->shift) - 1);
	uint64_t end = addr + (size - 1);

	if (!size)
		return true;
	if (end < addr) /* the range runs to the top of the address space */
		end = UINT64_MAX;
	return addr <= last && end >= e->va;
}

void dev_atc_invalidate(struct dev_atc *a, bool pv, uint32_t pasid,
			uint64_t addr, uint64_t size)
{
	bool all_pasids = !pv || pasid == DEV_ATC_ALL_PASIDS;

	pthread_mutex_lock(&a->lock);
	a->gen++;
	a->invalidations++;
	for (unsigned i = 0; i < DEV_ATC_ENTRIES; i++) {
		struct dev_atc_entry *e = &a->e[i];

		if (!e->valid || !in_range(e, addr, size))
			continue;
		if (all_pasids || (e->pv && e->pasid == pasid))
			e->valid = false;
	}
	pthread_mutex_unlock(&a->lock);
}

void dev_atc_iommu_inv(struct iommu_dev *dev, uint32_t ssid, bool ssid_valid,
		       uint64_t addr, uint64_t size)
{
	struct machine_device *d =
		(struct machine_device *)((char *)dev -
					  offsetof(struct machine_device, dev));

	dev_atc_invalidate(&d->atc, ssid_valid, ssid, addr, size);
}
