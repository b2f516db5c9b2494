/* SPDX-License-Identifier: MIT */
/*
 * Machine files (internal): the parsed description of a machine (IOMMU
 * instances with their model, nesting mode and register overrides; PCI
 * functions with their RID, capabilities and VFIO number), the YAML loader
 * that fills it with "FILE:LINE: FIELD: what" errors, and the builder that
 * turns it into a struct ionest_machine. docs/machine-files.md is the
 * user's reference.
 */
#ifndef IONEST_MACHINE_CONFIG_H
#define IONEST_MACHINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ionest/ionest.h>

enum mcfg_model {
	MCFG_MOCK,
	MCFG_SMMUV3,
	MCFG_VTD,
	MCFG_NMODELS,
};

/* How a nested HWPT on this instance is realised (DESIGN.md: hardware or
 * software nesting). Stored and reported; only `hw` acts so far. */
enum mcfg_nesting {
	MCFG_NEST_AUTO = IONEST_NESTING_AUTO,
	MCFG_NEST_HW = IONEST_NESTING_HW,
	MCFG_NEST_SHADOW = IONEST_NESTING_SHADOW,
};

/* One register override field of a model's config struct. */
enum mcfg_kind {
	MCFG_K_CFG8, /* uint8_t holding IONEST_CFG(value) */
	MCFG_K_U8, /* uint8_t, raw */
	MCFG_K_U32, /* uint32_t, raw */
	MCFG_K_U64, /* uint64_t, raw */
};

struct mcfg_field {
	const char *name;
	uint16_t offset; /* in the model's config struct */
	uint8_t kind; /* enum mcfg_kind */
	bool boolean; /* true/false accepted (and 0/1) */
	uint64_t min, max;
	const char *what; /* the register field it sets, for --help/docs */
};

#define MCFG_MAX_OVERRIDES 32

struct mcfg_override {
	const struct mcfg_field *field;
	uint64_t value;
	int line;
};

struct mcfg_iommu {
	char name[32];
	enum mcfg_model model;
	enum mcfg_nesting nesting;
	int line, config_line;
	unsigned nover;
	struct mcfg_override over[MCFG_MAX_OVERRIDES];
	union {
		struct ionest_mock_config mock;
		struct ionest_smmuv3_config smmuv3;
		struct ionest_vtd_config vtd;
	} cfg;
};

struct mcfg_device {
	char name[64];
	char iommu[32];
	unsigned iommu_index; /* into machine_config.iommus */
	uint32_t rid;
	bool has_bdf; /* given as "BB:DD.F" rather than rid */
	uint8_t pasid_bits;
	bool ats, pri, pasid_exec, pasid_priv;
	int vfio; /* the N of /dev/vfio/devices/vfioN */
	bool vfio_given;
	int line, rid_line, vfio_line, iommu_line;
};

/*
 * The optional scenario: state to set up on the machine (through the
 * iommufd ABI, scenario/file.h) so that accesses have something to
 * translate. Host domains: an IOAS with host buffers mapped, its devices
 * attached by RID. VMs: RAM at a GPA (the VM's IOAS, a nest-parent stage
 * 2), and per (device, PASID) a guest stage 1 in that RAM with its maps.
 */
#define MCFG_PERM_R (1u << 0)
#define MCFG_PERM_W (1u << 1)
#define MCFG_PERM_X (1u << 2)
#define MCFG_PERM_P (1u << 3) /* privileged only */

struct mcfg_smap {
	uint64_t iova, gpa, size; /* gpa: VM maps only */
	uint32_t perm; /* MCFG_PERM_* */
	int line;
};

/* A device (RID, or a PASID of it) in a domain. */
struct mcfg_sdev {
	unsigned device; /* index in machine_config.devices */
	uint32_t pasid; /* IONEST_NO_PASID: the RID */
	unsigned map0, nmap; /* VM: its stage-1 maps in mcfg_scenario.map */
	int line;
};

struct mcfg_sdomain {
	bool vm; /* a VM, else a host domain */
	char name[16];
	uint64_t ram, gpa; /* VM: bytes of RAM and its GPA */
	unsigned map0, nmap; /* host: the IOAS maps */
	unsigned dev0, ndev; /* in mcfg_scenario.dev */
	int line;
};

struct mcfg_scenario {
	struct mcfg_sdomain *dom;
	struct mcfg_sdev *dev;
	struct mcfg_smap *map;
	unsigned ndom, ndev, nmap;
	int line;
};

struct machine_config {
	char *file; /* as named in messages */
	int version;
	unsigned niommus, ndevices;
	struct mcfg_iommu *iommus;
	struct mcfg_device *devices; /* in file order */
	struct mcfg_scenario *scenario; /* NULL: none */
};

/* ---- Models and their register fields (config_fields.c) ---- */
const char *mcfg_model_name(enum mcfg_model m);
/* -1 if @name is not a model. */
int mcfg_model_find(const char *name);
const char *mcfg_nesting_name(enum mcfg_nesting n);
/* The override fields of a model, NULL-name terminated. */
const struct mcfg_field *mcfg_fields(enum mcfg_model m);
const struct mcfg_field *mcfg_field_find(enum mcfg_model m, const char *name);
/* Store @v (already range-checked) into the model's config struct. */
void mcfg_field_set(struct mcfg_iommu *io, const struct mcfg_field *f,
		    uint64_t v);

/* ---- Loading (config_yaml.c) ---- */
/*
 * Parse @len bytes of YAML at @buf; @file names it in messages. 0 with
 * *out set, or -EINVAL (a message in @err), -ENOMEM, -ENOTSUP (built
 * without libyaml). Device VFIO numbers are assigned and checked here.
 */
int machine_config_parse(const char *file, const char *buf, size_t len,
			 struct machine_config **out, char *err, size_t errlen);
/* Read and parse @path: also -errno of open/read (message in @err). */
int machine_config_load(const char *path, struct machine_config **out,
			char *err, size_t errlen);
void machine_config_free(struct machine_config *c);
/* The device named @name, or "vfioN"; NULL if none. */
const struct mcfg_device *machine_config_device(const struct machine_config *c,
						const char *name);

/* ---- Building (config.c) ---- */
/*
 * A machine with the config's IOMMUs (in file order) and devices (in
 * VFIO number order, so that device index N is vfioN). 0 or -errno with a
 * "FILE:LINE: FIELD: what" message in @err.
 */
int machine_config_build(const struct machine_config *c,
			 struct ionest_machine **out, char *err, size_t errlen);
/* The device with VFIO number @n, or NULL. */
const struct mcfg_device *machine_config_vfio(const struct machine_config *c,
					      int n);

/* Message helper shared by the loader and the builder: "FILE:LINE: " then
 * the formatted text; returns @rc. */
int mcfg_error(char *err, size_t errlen, const char *file, int line, int rc,
	       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
