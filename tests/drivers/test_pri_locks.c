// SPDX-License-Identifier: MIT
/*
 * Lock order on the page request paths of both drivers. A page request is
 * reported on the thread whose DMA raised it, from inside the model's
 * interrupt; its answer (the core's INVALID when nobody takes it, or the
 * VMM's through the fault fd) goes back through the driver's queue to the
 * model, which may call the endpoint, which may retry at once. None of this
 * may deadlock against the driver's other users, nor against itself:
 *   - VT-d: DMA threads whose page requests are answered at once, while
 *     another thread programs the same IOMMU (map/unmap: the invalidation
 *     queue under the driver's lock, registers under the model's);
 *   - both: an endpoint that retries its DMA from inside the page response
 *     callback, the retry page-faulting again (and again);
 *   - VT-d: detaching (pending groups answered INVALID) and closing the
 *     fault queue while DMA keeps raising page requests.
 * A watchdog turns a deadlock into a failure.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>

#include "core/nest_util.h"
#include "machine/machine.h"
#include "smmu_fixture.h"
#include "vtd_fixture.h"

#define PAGE FX_PAGE
#define IOVA 0x10000ull /* never mapped by the guest: page requests */
#define IOVA2 0x100000ull
#define ROUNDS 400
#define WATCHDOG 120

/* ---- VT-d: a PRI device on a nested HWPT without a fault queue ---- */

struct vt {
	struct fx f;
	struct guest g;
	uint32_t ioas, parent, nested_fq, nested, fault_id, ioas2;
	int fault_fd;
	void *page2;
};

static void vt_setup(struct vt *v)
{
	const struct vfx_dev devs[] = {
		{ .rid = 0x100, .pasid_bits = 8, .ats = true, .pri = true },
		{ .rid = 0x101, .pasid_bits = 8, .ats = true },
	};
	struct iommu_hwpt_vtd_s1 s1 = { .addr_width = 48 };
	uint32_t pt;

	memset(v, 0, sizeof(*v));
	vfx_setup(&v->f, NULL, 2, devs);
	guest_init(&v->g, GUEST_GPA, GUEST_LEN);
	v->ioas = fx_ioas(v->f.fd);
	assert_int_equal(guest_map(&v->g, v->f.fd, v->ioas), 0);
	assert_int_equal(fx_bind(&v->f, 0), 0);
	assert_int_equal(fx_bind(&v->f, 1), 0);
	assert_int_equal(fx_hwpt_alloc(v->f.fd, v->f.devid[0], v->ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT,
				       &v->parent),
			 0);
	s1.pgtbl_addr = guest_s1_init(&v->g);
	assert_int_equal(nest_fault_alloc(v->f.fd, &v->fault_id, &v->fault_fd),
			 0);
	assert_int_equal(nest_hwpt_alloc(v->f.fd, v->f.devid[0], v->parent,
					 IOMMU_HWPT_FAULT_ID_VALID,
					 IOMMU_HWPT_DATA_VTD_S1, &s1,
					 sizeof(s1), v->fault_id,
					 &v->nested_fq),
			 0);
	assert_int_equal(nest_hwpt_alloc(v->f.fd, v->f.devid[0], v->parent, 0,
					 IOMMU_HWPT_DATA_VTD_S1, &s1,
					 sizeof(s1), 0, &v->nested),
			 0);
	/* The fault-capable HWPT turns PRE on; it stays on after the
	 * device moves to the HWPT without a queue, whose page requests
	 * the core then answers INVALID at once. */
	pt = v->nested_fq;
	assert_int_equal(fx_attach(&v->f, 0, &pt), 0);
	pt = v->nested;
	assert_int_equal(fx_attach(&v->f, 0, &pt), 0);
	assert_true(vfx_ce(&v->f, 0x100)[0] & VTD_CE_PRE);
	/* Device 1 on an IOAS of its own. */
	v->page2 = fx_alloc(PAGE, PAGE);
	v->ioas2 = vfx_ioas_map(&v->f, v->page2, PAGE, IOVA2);
	pt = v->ioas2;
	assert_int_equal(fx_attach(&v->f, 1, &pt), 0);
}

static void vt_teardown(struct vt *v)
{
	assert_int_equal(fx_detach(&v->f, 0), 0);
	assert_int_equal(fx_detach(&v->f, 1), 0);
	if (v->fault_fd >= 0)
		assert_int_equal(ionest_close(v->fault_fd), 0);
	vfx_teardown(&v->f);
	guest_fini(&v->g);
	fx_free(v->page2, PAGE);
}

static int vt_write(struct vt *v, int i, uint64_t iova)
{
	uint32_t x = 1;

	return vfx_dma(&v->f, i, IONEST_NO_PASID, iova, &x, 4,
		       IONEST_DMA_TO_MEM);
}

/* DMA by one device: @rounds accesses, or with @rounds 0 until @stop. */
struct dma_loop {
	struct fx *f;
	int dev, rounds, done, again;
	bool stop;
	uint64_t iova;
};

static void *dma_thread(void *arg)
{
	struct dma_loop *l = arg;
	uint32_t x = 2;

	while (l->rounds ? l->done < l->rounds :
			   !__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		l->again += ionest_device_dma(l->f->m, l->f->dev[l->dev],
					      IONEST_NO_PASID, l->iova, &x, 4,
					      IONEST_DMA_TO_MEM) == -EAGAIN;
		l->done++;
	}
	return NULL;
}

static void dma_stop(struct dma_loop *l, pthread_t t)
{
	__atomic_store_n(&l->stop, true, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t, NULL), 0);
}

/* Page requests answered from the interrupt while map/unmap programs
 * the same IOMMU: the answer must not wait for the driver's lock while the
 * model's is held by the thread that raised it. */
static void test_vtd_answer_vs_map(void **state)
{
	struct vt v;
	struct dma_loop l;
	pthread_t t;
	void *extra = fx_alloc(PAGE, PAGE);
	uint64_t unmapped;

	vt_setup(&v);
	assert_int_equal(vt_write(&v, 0, IOVA), -EAGAIN);
	assert_int_equal(vfx_drv_counter(&v.f, "page_resp"), 1);
	l = (struct dma_loop){ .f = &v.f, .dev = 0, .iova = IOVA };
	test_watchdog(WATCHDOG, "vtd page answer vs map");
	assert_int_equal(pthread_create(&t, NULL, dma_thread, &l), 0);
	for (int i = 0; i < ROUNDS; i++) {
		assert_int_equal(fx_map_fixed(v.f.fd, v.ioas2, extra, PAGE,
					      IOVA2 + PAGE),
				 0);
		assert_int_equal(vt_write(&v, 1, IOVA2 + PAGE), 0);
		assert_int_equal(fx_unmap(v.f.fd, v.ioas2, IOVA2 + PAGE, PAGE,
					  &unmapped),
				 0);
	}
	dma_stop(&l, t);
	test_watchdog_stop();
	assert_true(l.done > 0);
	assert_int_equal(l.again, l.done);
	/* Every request was answered. */
	assert_int_equal(vfx_drv_counter(&v.f, "page_resp"),
			 vfx_drv_counter(&v.f, "page_request"));
	vt_teardown(&v);
	fx_free(extra, PAGE);
}

/* An endpoint that retries from inside the response. */
struct retry {
	struct ionest_machine *m;
	int dev, depth, max, calls, max_depth;
	uint64_t iova;
	int rc[8];
};

static void retry_cb(void *ctx, uint32_t sid, uint32_t ssid, bool ssid_valid,
		     uint32_t prgi, uint32_t code)
{
	struct retry *r = ctx;
	uint32_t x = 3;

	(void)sid, (void)ssid, (void)ssid_valid, (void)prgi, (void)code;
	/* @max retries in all, each from inside the previous answer's
	 * callback where the IOMMU delivers it so. */
	if (r->calls >= r->max)
		return;
	if (++r->depth > r->max_depth)
		r->max_depth = r->depth;
	r->rc[r->calls++ % 8] = ionest_device_dma(r->m, r->dev, IONEST_NO_PASID,
						  r->iova, &x, 4,
						  IONEST_DMA_TO_MEM);
	r->depth--;
}

static void test_vtd_retry_in_response(void **state)
{
	struct vt v;
	struct retry r;

	vt_setup(&v);
	r = (struct retry){
		.m = v.f.m, .dev = v.f.dev[0], .max = 3, .iova = IOVA
	};
	ionest_hw_set_page_resp_handler(vfx_hw(&v.f), retry_cb, &r);
	test_watchdog(WATCHDOG, "vtd retry in response");
	assert_int_equal(vt_write(&v, 0, IOVA), -EAGAIN);
	test_watchdog_stop();
	/* Each answer came back and retried, up to the endpoint's limit. */
	assert_true(r.calls >= 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(r.rc[i], -EAGAIN);
	assert_int_equal(vfx_drv_counter(&v.f, "page_resp"),
			 vfx_drv_counter(&v.f, "page_request"));
	ionest_hw_set_page_resp_handler(vfx_hw(&v.f), NULL, NULL);
	vt_teardown(&v);
}

/*
 * The core answers a pending group INVALID when the device leaves the
 * HWPT of its fault queue; the endpoint retries from inside that answer,
 * and the retry's request, on the new HWPT without a queue, is answered
 * at once - while the first answer still holds the driver's lock.
 */
static void test_vtd_retry_in_auto_answer(void **state)
{
	struct vt v;
	struct retry r;
	uint32_t pt;

	vt_setup(&v);
	pt = v.nested_fq;
	assert_int_equal(fx_attach(&v.f, 0, &pt), 0);
	assert_int_equal(vt_write(&v, 0, IOVA), -EAGAIN);
	assert_int_equal(vfx_drv_counter(&v.f, "page_resp"),
			 vfx_drv_counter(&v.f, "page_request") - 1);
	r = (struct retry){
		.m = v.f.m, .dev = v.f.dev[0], .max = 2, .iova = IOVA
	};
	ionest_hw_set_page_resp_handler(vfx_hw(&v.f), retry_cb, &r);
	test_watchdog(WATCHDOG, "vtd retry in the core's answer");
	pt = v.nested;
	assert_int_equal(fx_attach(&v.f, 0, &pt), 0);
	test_watchdog_stop();
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.rc[0], -EAGAIN);
	assert_int_equal(r.rc[1], -EAGAIN);
	assert_int_equal(vfx_drv_counter(&v.f, "page_resp"),
			 vfx_drv_counter(&v.f, "page_request"));
	ionest_hw_set_page_resp_handler(vfx_hw(&v.f), NULL, NULL);
	vt_teardown(&v);
}

/* The VMM's answers and its detach / queue close (pending groups answered
 * INVALID) while DMA keeps faulting, and device 1 is mapped meanwhile. */
static void test_vtd_detach_close_under_dma(void **state)
{
	struct vt v;
	struct dma_loop l;
	pthread_t t;
	uint32_t pt;

	vt_setup(&v);
	test_watchdog(WATCHDOG, "vtd detach/close under DMA");
	for (int round = 0; round < 20; round++) {
		struct iommu_hwpt_pgfault rec[4];
		struct iommu_hwpt_page_response resp;
		long n;

		pt = v.nested_fq;
		assert_int_equal(fx_attach(&v.f, 0, &pt), 0);
		l = (struct dma_loop){
			.f = &v.f, .dev = 0, .rounds = 40, .iova = IOVA
		};
		assert_int_equal(pthread_create(&t, NULL, dma_thread, &l), 0);
		/* Answer some through the fd, leave others pending. */
		n = ionest_read(v.fault_fd, rec, sizeof(rec));
		for (long i = 0; i < n / (long)sizeof(rec[0]); i += 2) {
			resp = (struct iommu_hwpt_page_response){
				.cookie = rec[i].cookie,
				.code = IOMMUFD_PAGE_RESP_SUCCESS,
			};
			assert_int_equal(ionest_write(v.fault_fd, &resp,
						      sizeof(resp)),
					 sizeof(resp));
		}
		/* Replace: what is pending is answered INVALID. */
		pt = v.nested;
		assert_int_equal(fx_attach(&v.f, 0, &pt), 0);
		assert_int_equal(pthread_join(t, NULL), 0);
	}
	/* Close the queue with groups pending on it. */
	pt = v.nested_fq;
	assert_int_equal(fx_attach(&v.f, 0, &pt), 0);
	l = (struct dma_loop){ .f = &v.f, .dev = 0, .rounds = 40, .iova = IOVA };
	assert_int_equal(pthread_create(&t, NULL, dma_thread, &l), 0);
	pt = v.nested;
	assert_int_equal(fx_attach(&v.f, 0, &pt), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(ionest_close(v.fault_fd), 0);
	v.fault_fd = -1;
	test_watchdog_stop();
	assert_int_equal(vfx_drv_counter(&v.f, "page_resp"),
			 vfx_drv_counter(&v.f, "page_request"));
	vt_teardown(&v);
}

/* ---- SMMUv3: a PRI function on a stage-1 paging domain ---- */

static void test_smmu_retry_in_response(void **state)
{
	struct ionest_device_config dc[1] = { {
		.rid = 0x100,
		.pasid_bits = 8,
		.ats = true,
		.pri = true,
	} };
	struct sx x;
	struct retry r;
	void *data = fx_alloc(PAGE, PAGE);
	uint32_t ioas, pt;
	uint32_t w = 1;

	sx_setup_devs(&x, NULL, dc, 1);
	ioas = fx_ioas(x.f.fd);
	sx_map(&x, ioas, data, PAGE, IOVA2);
	pt = ioas;
	sx_bind_attach(&x, 0, &pt);
	r = (struct retry){
		.m = x.f.m, .dev = x.f.dev[0], .max = 3, .iova = IOVA
	};
	ionest_hw_set_page_resp_handler(x.hw, retry_cb, &r);
	test_watchdog(WATCHDOG, "smmuv3 retry in response");
	/* Not mapped: a page request, answered INVALID at once (no fault
	 * queue), which the endpoint retries from the callback. */
	assert_int_equal(fx_dma_write(&x.f, 0, IONEST_NO_PASID, IOVA, &w, 4),
			 -EAGAIN);
	test_watchdog_stop();
	assert_true(r.calls >= 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(r.rc[i], -EAGAIN);
	assert_int_equal(sx_ctr(&x, drv_page_resp),
			 sx_ctr(&x, drv_pri_request));
	/* The command queue is healthy afterwards. */
	assert_int_equal(fx_dma_write(&x.f, 0, IONEST_NO_PASID, IOVA2, &w, 4),
			 0);
	ionest_hw_set_page_resp_handler(x.hw, NULL, NULL);
	sx_teardown(&x);
	fx_free(data, PAGE);
}

/* SMMUv3: answers from DMA threads while another thread maps and unmaps
 * (the command queue is shared). */
static void test_smmu_answer_vs_map(void **state)
{
	struct ionest_device_config dc[2] = {
		{ .rid = 0x100, .pasid_bits = 8, .ats = true, .pri = true },
		{ .rid = 0x101, .pasid_bits = 8, .ats = true },
	};
	struct sx x;
	struct dma_loop l;
	pthread_t t;
	void *data = fx_alloc(PAGE, PAGE), *extra = fx_alloc(PAGE, PAGE);
	uint32_t ioas, ioas2, pt;
	uint64_t unmapped;
	uint32_t w = 1;

	sx_setup_devs(&x, NULL, dc, 2);
	ioas = fx_ioas(x.f.fd);
	pt = ioas;
	sx_bind_attach(&x, 0, &pt);
	ioas2 = fx_ioas(x.f.fd);
	sx_map(&x, ioas2, data, PAGE, IOVA2);
	pt = ioas2;
	sx_bind_attach(&x, 1, &pt);
	l = (struct dma_loop){ .f = &x.f, .dev = 0, .iova = IOVA };
	test_watchdog(WATCHDOG, "smmuv3 page answer vs map");
	assert_int_equal(pthread_create(&t, NULL, dma_thread, &l), 0);
	for (int i = 0; i < ROUNDS; i++) {
		assert_int_equal(fx_map_fixed(x.f.fd, ioas2, extra, PAGE,
					      IOVA2 + PAGE),
				 0);
		assert_int_equal(fx_dma_write(&x.f, 1, IONEST_NO_PASID,
					      IOVA2 + PAGE, &w, 4),
				 0);
		assert_int_equal(fx_unmap(x.f.fd, ioas2, IOVA2 + PAGE, PAGE,
					  &unmapped),
				 0);
	}
	dma_stop(&l, t);
	test_watchdog_stop();
	assert_true(l.done > 0);
	assert_int_equal(l.again, l.done);
	assert_int_equal(sx_ctr(&x, drv_page_resp),
			 sx_ctr(&x, drv_pri_request));
	sx_teardown(&x);
	fx_free(data, PAGE);
	fx_free(extra, PAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vtd_answer_vs_map),
		cmocka_unit_test(test_vtd_retry_in_response),
		cmocka_unit_test(test_vtd_retry_in_auto_answer),
		cmocka_unit_test(test_vtd_detach_close_under_dma),
		cmocka_unit_test(test_smmu_retry_in_response),
		cmocka_unit_test(test_smmu_answer_vs_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
