/* Computed parts of the guest physical address map (layout.h). */
#include "arch/arm64/layout.h"

static const struct {
	uint64_t base, limit;
} redist_windows[GIC_REDIST_MAX_REGIONS] = {
	{ GIC_REDIST_BASE, GIC_REDIST_LIMIT },
	{ GIC_REDIST2_BASE, GIC_REDIST2_LIMIT },
};

unsigned layout_redist_regions(unsigned nr_vcpus, struct gic_redist_region *out)
{
	unsigned left = nr_vcpus, n = 0;

	if (nr_vcpus == 0 || nr_vcpus > LAYOUT_MAX_VCPUS)
		return 0;
	for (unsigned i = 0; i < GIC_REDIST_MAX_REGIONS && left > 0; i++) {
		unsigned room = (unsigned)((redist_windows[i].limit - redist_windows[i].base) /
					   GIC_REDIST_STRIDE);
		unsigned take = left < room ? left : room;
		out[n++] = (struct gic_redist_region){ .base = redist_windows[i].base, .count = take };
		left -= take;
	}
	return left ? 0 : n;
}

unsigned layout_ipa_bits(uint64_t ram_size)
{
	/* RAM is the highest thing in the map; everything else is below RAM_BASE. */
	uint64_t top = ram_size > UINT64_MAX - RAM_BASE ? UINT64_MAX : RAM_BASE + ram_size;
	unsigned bits = LAYOUT_MIN_IPA_BITS;

	while (bits < 64 && top > (1ULL << bits))
		bits++;
	return bits;
}

uint64_t layout_max_ram(unsigned ipa_bits)
{
	if (ipa_bits >= 64)
		return UINT64_MAX - RAM_BASE;
	if (ipa_bits < LAYOUT_MIN_IPA_BITS || (1ULL << ipa_bits) <= RAM_BASE)
		return 0;
	return (1ULL << ipa_bits) - RAM_BASE;
}
