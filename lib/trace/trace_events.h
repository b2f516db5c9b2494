/* SPDX-License-Identifier: MIT */
/*
 * The one table of trace events. Each row: name (component-prefixed),
 * format string, then the names of its arguments (at most 6). Arguments are
 * typed uint64_t; the format must consume them as such (PRIx64/PRIu64).
 * Rows are added by the layer that emits them, grouped by component.
 */
#ifndef IONEST_TRACE_EVENTS_H
#define IONEST_TRACE_EVENTS_H

#include <inttypes.h>

#define IONEST_TRACE_EVENTS(X)                                                 \
	X(pt_map,                                                              \
	  "iova=%#" PRIx64 " pa=%#" PRIx64 " size=%#" PRIx64 " prot=%#" PRIx64 \
	  " ret=%" PRId64,                                                     \
	  iova, pa, size, prot, ret)                                           \
	X(pt_unmap,                                                            \
	  "iova=%#" PRIx64 " size=%#" PRIx64 " unmapped=%#" PRIx64             \
	  " ret=%" PRId64,                                                     \
	  iova, size, unmapped, ret)                                           \
	X(pt_table_alloc, "pa=%#" PRIx64 " size=%#" PRIx64, pa, size)          \
	X(pt_table_free, "pa=%#" PRIx64 " size=%#" PRIx64, pa, size)           \
	X(hw_mmio_write,                                                       \
	  "hw=%" PRIu64 " off=%#" PRIx64 " size=%" PRIu64 " val=%#" PRIx64,    \
	  hw, off, size, val)                                                  \
	X(hw_translate_fault,                                                  \
	  "hw=%" PRIu64 " sid=%#" PRIx64 " ssid=%#" PRIx64 " iova=%#" PRIx64   \
	  " code=%#" PRIx64,                                                   \
	  hw, sid, ssid, iova, code)                                           \
	X(smmu_cmd,                                                            \
	  "hw=%" PRIu64 " op=%#" PRIx64 " dw0=%#" PRIx64 " dw1=%#" PRIx64, hw, \
	  op, dw0, dw1)                                                        \
	X(smmu_event,                                                          \
	  "hw=%" PRIu64 " type=%#" PRIx64 " sid=%#" PRIx64 " addr=%#" PRIx64,  \
	  hw, type, sid, addr)                                                 \
	X(smmu_pri,                                                            \
	  "hw=%" PRIu64 " sid=%#" PRIx64 " ssid=%#" PRIx64 " addr=%#" PRIx64   \
	  " prgi=%" PRIu64,                                                    \
	  hw, sid, ssid, addr, prgi)                                           \
	X(vtd_inv_desc,                                                        \
	  "hw=%" PRIu64 " type=%#" PRIx64 " qw0=%#" PRIx64 " qw1=%#" PRIx64,   \
	  hw, type, qw0, qw1)                                                  \
	X(vtd_fault,                                                           \
	  "hw=%" PRIu64 " sid=%#" PRIx64 " pasid=%#" PRIx64 " addr=%#" PRIx64  \
	  " reason=%#" PRIx64,                                                 \
	  hw, sid, pasid, addr, reason)                                        \
	X(vtd_prq,                                                             \
	  "hw=%" PRIu64 " sid=%#" PRIx64 " pasid=%#" PRIx64 " addr=%#" PRIx64  \
	  " prgi=%" PRIu64,                                                    \
	  hw, sid, pasid, addr, prgi)                                          \
	X(vtd_drv_fault,                                                       \
	  "hw=%" PRIu64 " sid=%#" PRIx64 " pasid=%#" PRIx64 " addr=%#" PRIx64  \
	  " reason=%#" PRIx64,                                                 \
	  hw, sid, pasid, addr, reason)                                        \
	X(smmuv3_drv_event,                                                    \
	  "hw=%" PRIu64 " type=%#" PRIx64 " sid=%#" PRIx64 " ssid=%#" PRIx64   \
	  " addr=%#" PRIx64,                                                   \
	  hw, type, sid, ssid, addr)                                           \
	X(smmuv3_cmdq_error,                                                   \
	  "hw=%" PRIu64 " cerror=%" PRIu64 " dw0=%#" PRIx64 " dw1=%#" PRIx64,  \
	  hw, cerror, dw0, dw1)                                                \
	X(smmuv3_gerror, "hw=%" PRIu64 " active=%#" PRIx64, hw, active)        \
	X(core_hw_queue,                                                       \
	  "id=%" PRIu64 " prod=%#" PRIx64 " cons=%#" PRIx64 " err=%" PRIu64,   \
	  id, prod, cons, err)                                                 \
	X(uapi_ioctl, "fd=%" PRId64 " cmd=%#" PRIx64 " ret=%" PRId64, fd, cmd, \
	  ret)                                                                 \
	X(dev_dma_engine,                                                      \
	  "dev=%" PRIu64 " mode=%" PRIu64 " pasid=%#" PRIx64 " len=%" PRIu64   \
	  " done=%" PRIu64 " status=%#" PRIx64,                                \
	  dev, mode, pasid, len, done, status)                                 \
	X(dev_msi,                                                             \
	  "dev=%" PRIu64 " pasid=%#" PRIx64 " addr=%#" PRIx64                  \
	  " data=%#" PRIx64,                                                   \
	  dev, pasid, addr, data)

#endif
