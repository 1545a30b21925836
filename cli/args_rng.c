/* --rng: the virtio-rng device (on by default, fed from /dev/urandom). */
#include "cli/args.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/virtio/rng.h"

void cli_rng_default(struct vm_config *cfg)
{
	cfg->rng_source = VIRTIO_RNG_DEFAULT_SRC;
}

int parse_rng(const char *v, struct vm_config *cfg, char *err, size_t errlen)
{
	if (!strcmp(v, "off")) {
		cfg->rng_source = NULL;
	} else if (!strcmp(v, "on")) {
		cfg->rng_source = VIRTIO_RNG_DEFAULT_SRC;
	} else if (!strncmp(v, "src=", 4) && v[4]) {
		cfg->rng_source = v + 4;
	} else {
		snprintf(err, errlen, "--rng: expected src=PATH, on or off, got '%s'", v);
		return -EINVAL;
	}
	return 0;
}
