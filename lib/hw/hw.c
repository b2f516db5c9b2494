// SPDX-License-Identifier: MIT
/* The public ionest_hw_* entry points and the state every model shares. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hw/hw.h"

static const char *const hw_counter_names[] = { HW_COUNTERS(CTR_NAME) };

uint8_t hw_msi_doorbell[HW_MSI_DOORBELL_SIZE]
	__attribute__((aligned(HW_MSI_DOORBELL_SIZE)));
static unsigned hw_next_id;

void hw_init(struct ionest_hw *hw, const struct hw_ops *ops,
	     const char *name_prefix)
{
	hw->ops = ops;
	hw->id = __atomic_fetch_add(&hw_next_id, 1, __ATOMIC_RELAXED);
	snprintf(hw->name, sizeof(hw->name), "%s%u", name_prefix, hw->id);
	ctr_register(&hw->ctr, hw->name, hw_counter_names, hw->ctr_val,
		     HW_COUNTER_COUNT);
}

bool hw_dma_rule_set(struct ionest_hw *hw, struct hw_tlb *tlb,
		     const uint32_t *on, uint32_t on_mask, uint32_t on_val,
		     uint8_t need_read, uint8_t need_write, uint8_t deny,
		     bool (*serves)(uint32_t flags, uint32_t access,
				    bool pasid))
{
	struct hw_dma_rule r = {
		.tlb = tlb,
		.on = on,
		.on_mask = on_mask,
		.on_val = on_val,
		.need = { need_read, need_write },
		.deny = deny ? deny : 0x100,
	};

	for (unsigned p = 0; p < 2; p++)
		for (uint32_t a = 1; a <= 2; a++)
			for (uint32_t f = 0; f < 256; f++) {
				bool mask = (f & r.need[a - 1]) ==
						    r.need[a - 1] &&
					    (f & r.deny) != r.deny;

				if (mask != serves(f, a, p)) {
					hw->dma = (struct hw_dma_rule){ 0 };
					return false;
				}
			}
	hw->dma = r;
	return true;
}

void hw_dma_ctx_init(struct hw_dma_ctx *c, struct ionest_hw *hw, uint32_t sid)
{
	*c = (struct hw_dma_ctx){ .key = hw_tlb_key(sid, 0) };
	c->mix = (uint32_t)hw_tlb_mix(c->key);
	if (!hw || !hw->dma.tlb)
		return;
	c->sets = hw->dma.tlb->sets;
	c->set_mask = (uint32_t)hw->dma.tlb->set_mask;
	c->shifts = &hw->dma.tlb->shifts;
	c->on = hw->dma.on;
	c->on_mask = hw->dma.on_mask;
	c->on_val = hw->dma.on_val;
	c->need[0] = hw->dma.need[0];
	c->need[1] = hw->dma.need[1];
	c->deny = hw->dma.deny;
	c->ctr = hw->ctr_val;
}

struct hw_dma_hit hw_dma_hit(struct ionest_hw *hw, uint64_t key, uint64_t iova,
			     uint32_t access)
{
	struct hw_dma_ctx c;

	hw_dma_ctx_init(&c, hw, (uint32_t)key);
	/* Outside the rule's domain: not a hit. */
	if (!c.sets ||
	    (access != IONEST_ACCESS_READ && access != IONEST_ACCESS_WRITE) ||
	    ((key >> 32) & ~(uint64_t)HW_TLB_SSID_VALID) >> 20)
		return (struct hw_dma_hit){ 0, 0 };
	return hw_dma_probe(&c, key, iova, access);
}

void hw_fini(struct ionest_hw *hw)
{
	ctr_unregister(&hw->ctr);
}

bool hw_bus_read(struct ionest_hw *hw, uint64_t pa, uint64_t *out, unsigned n)
{
	const uint64_t *p = hw_bus_map(hw, pa, (uint64_t)n * 8, false);

	if (!p || (pa & 7))
		return false;
	for (unsigned i = 0; i < n; i++)
		out[i] = hw_read64(&p[i]);
	return true;
}

bool hw_bus_write(struct ionest_hw *hw, uint64_t pa, const uint64_t *in,
		  unsigned n)
{
	uint64_t *p = hw_bus_map(hw, pa, (uint64_t)n * 8, true);

	if (!p || (pa & 7))
		return false;
	for (unsigned i = 0; i < n; i++)
		hw_write64(&p[i], in[i]);
	return true;
}

bool hw_bus_write32(struct ionest_hw *hw, uint64_t pa, uint32_t val)
{
	uint32_t *p = hw_bus_map(hw, pa, 4, true);

	if (!p || (pa & 3))
		return false;
	__atomic_store_n(p, val, __ATOMIC_RELEASE);
	return true;
}

static void *hw_pt_table(void *ctx, uint64_t pa, size_t size, bool write)
{
	struct ionest_hw *hw = ctx;

	hw_count(hw, hw_walk_read);
	return hw_bus_map(hw, pa, size, write);
}

static const struct pt_mem_ops hw_pt_mem_ops = {
	.table = hw_pt_table,
};

struct pt_mem hw_bus_pt_mem(struct ionest_hw *hw)
{
	return (struct pt_mem){ .ops = &hw_pt_mem_ops, .ctx = hw };
}

/* ---- public API ---- */

IONEST_API int ionest_hw_translate(struct ionest_hw *hw,
				   const struct ionest_xlate_req *req,
				   struct ionest_xlate_res *res)
{
	if (!hw || !req || !res)
		return -EINVAL;
	return hw->ops->translate(hw, req, res);
}

static bool mmio_args_ok(uint64_t offset, unsigned size)
{
	return (size == 4 || size == 8) && !(offset & (size - 1));
}

IONEST_API int ionest_hw_mmio_read(struct ionest_hw *hw, uint64_t offset,
				   unsigned size, uint64_t *val)
{
	if (!hw || !val || !mmio_args_ok(offset, size))
		return -EINVAL;
	return hw->ops->mmio_read(hw, offset, size, val);
}

IONEST_API int ionest_hw_mmio_write(struct ionest_hw *hw, uint64_t offset,
				    unsigned size, uint64_t val)
{
	if (!hw || !mmio_args_ok(offset, size))
		return -EINVAL;
	if (size == 4)
		val &= 0xffffffffu;
	trace_hw_mmio_write(hw->id, offset, size, val);
	return hw->ops->mmio_write(hw, offset, size, val);
}

IONEST_API void ionest_hw_free(struct ionest_hw *hw)
{
	if (hw)
		hw->ops->free(hw);
}

IONEST_API const char *ionest_hw_model(const struct ionest_hw *hw)
{
	return hw ? hw->ops->model : NULL;
}

IONEST_API bool ionest_hw_can_nest(const struct ionest_hw *hw)
{
	return hw && hw->ops->can_nest(hw);
}

IONEST_API const char *ionest_hw_name(const struct ionest_hw *hw)
{
	return hw ? hw->name : NULL;
}

IONEST_API int ionest_hw_set_name(struct ionest_hw *hw, const char *name)
{
	if (!hw || !name || !*name || strlen(name) >= sizeof(hw->name))
		return -EINVAL;
	ctr_unregister(&hw->ctr);
	snprintf(hw->name, sizeof(hw->name), "%s", name);
	ctr_register(&hw->ctr, hw->name, hw_counter_names, hw->ctr_val,
		     HW_COUNTER_COUNT);
	return 0;
}

IONEST_API void ionest_hw_set_bus(struct ionest_hw *hw,
				  const struct ionest_bus_ops *ops, void *ctx)
{
	hw->bus_ops = ops && ops->map ? ops : NULL;
	hw->bus_ctx = ctx;
	hw->ops->flush_caches(hw);
}

IONEST_API void ionest_hw_set_irq_handler(struct ionest_hw *hw,
					  ionest_irq_fn fn, void *ctx)
{
	hw->irq_fn = fn;
	hw->irq_ctx = ctx;
}

IONEST_API void ionest_hw_set_atc_inv_handler(struct ionest_hw *hw,
					      ionest_atc_inv_fn fn, void *ctx)
{
	hw->atc_inv_fn = fn;
	hw->atc_inv_ctx = ctx;
}

IONEST_API void ionest_hw_set_page_resp_handler(struct ionest_hw *hw,
						ionest_page_resp_fn fn,
						void *ctx)
{
	hw->page_resp_fn = fn;
	hw->page_resp_ctx = ctx;
}

IONEST_API void ionest_hw_set_resume_handler(struct ionest_hw *hw,
					     ionest_resume_fn fn, void *ctx)
{
	hw->resume_fn = fn;
	hw->resume_ctx = ctx;
}

IONEST_API void ionest_hw_flush_caches(struct ionest_hw *hw)
{
	if (hw)
		hw->ops->flush_caches(hw);
}
