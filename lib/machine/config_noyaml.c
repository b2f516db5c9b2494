// SPDX-License-Identifier: MIT
/* Machine files in a build without libyaml: every load says so. */
#include <errno.h>

#include "machine/config.h"
#include "util/alloc.h"

int machine_config_parse(const char *file, const char *buf, size_t len,
			 struct machine_config **out, char *err, size_t errlen)
{
	*out = NULL;
	return mcfg_error(err, errlen, file ? file : "<machine>", 0, -ENOTSUP,
			  "this ionest was built without libyaml");
}

int machine_config_load(const char *path, struct machine_config **out,
			char *err, size_t errlen)
{
	return machine_config_parse(path, NULL, 0, out, err, errlen);
}

void machine_config_free(struct machine_config *c)
{
	if (!c)
		return;
	xfree(c->iommus);
	xfree(c->devices);
	xfree(c->file);
	xfree(c);
}
