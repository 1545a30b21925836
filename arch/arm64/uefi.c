/*
 * Layout written into the caller's buffer (every piece 8-byte aligned, as
 * UEFI requires of its tables):
 *   EFI_SYSTEM_TABLE | FirmwareVendor string | EFI_CONFIGURATION_TABLE[1] |
 *   EFI_MEMORY_DESCRIPTOR[nr_regions] (sorted by address)
 * References: UEFI 2.7, 4.2 EFI Table Header, 4.3 EFI System Table,
 * 4.6 EFI Configuration Table, 7.2 GetMemoryMap().
 */
#include "arch/arm64/uefi.h"

#include <errno.h>
#include <string.h>

#define PAGE_SIZE_4K		4096ULL

#define EFI_SYSTEM_TABLE_SIGNATURE	0x5453595320494249ULL	/* "IBI SYST" */
#define EFI_2_70_SYSTEM_TABLE_REVISION	((2u << 16) | 70u)
#define EFI_SYSTEM_TABLE_SIZE		120u
#define EFI_CONFIG_TABLE_SIZE		24u	/* EFI_GUID + VOID* */
#define EFI_MEMORY_DESC_SIZE		48u	/* 40-byte struct, padded as firmware does */
#define EFI_MEMORY_DESC_VERSION		1u
#define FIRMWARE_REVISION		0x00010000u

/* EFI_SYSTEM_TABLE field offsets (64-bit, natural alignment). */
#define ST_HDR_SIGNATURE	0
#define ST_HDR_REVISION		8
#define ST_HDR_HEADER_SIZE	12
#define ST_HDR_CRC32		16
#define ST_HDR_RESERVED		20
#define ST_FIRMWARE_VENDOR	24
#define ST_FIRMWARE_REVISION	32
#define ST_CON_IN_HANDLE	40
#define ST_CON_IN		48
#define ST_CON_OUT_HANDLE	56
#define ST_CON_OUT		64
#define ST_STDERR_HANDLE	72
#define ST_STDERR		80
#define ST_RUNTIME_SERVICES	88
#define ST_BOOT_SERVICES	96
#define ST_NR_TABLE_ENTRIES	104
#define ST_CONFIG_TABLE		112

/* EFI memory types and attributes (UEFI 2.7, 7.2). */
#define EFI_LOADER_DATA			2
#define EFI_CONVENTIONAL_MEMORY		7
#define EFI_ACPI_RECLAIM_MEMORY		9
#define EFI_MEMORY_MAPPED_IO		11
#define EFI_MEMORY_UC			0x1ULL
#define EFI_MEMORY_WC			0x2ULL
#define EFI_MEMORY_WT			0x4ULL
#define EFI_MEMORY_WB			0x8ULL
#define EFI_MEMORY_RUNTIME		(1ULL << 63)

/* EFI_ACPI_20_TABLE_GUID 8868e871-e4f1-11d3-bc22-0080c73c8881: the first three
 * fields are little-endian integers, the last eight are bytes in order. */
static const uint8_t acpi_20_table_guid[16] = {
	0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11,
	0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81,
};

static const char firmware_vendor[] = "vmm";

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* CRC-32/ISO-HDLC (reflected, poly 0xEDB88320), as the table header uses. */
static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static int efi_type(enum uefi_mem_type t, uint32_t *type, uint64_t *attr)
{
	/* RAM: cacheable, and capable of the weaker types like firmware reports. */
	const uint64_t ram = EFI_MEMORY_UC | EFI_MEMORY_WC | EFI_MEMORY_WT | EFI_MEMORY_WB;

	switch (t) {
	case UEFI_MEM_LOADER_DATA:	*type = EFI_LOADER_DATA; *attr = ram; return 0;
	case UEFI_MEM_CONVENTIONAL:	*type = EFI_CONVENTIONAL_MEMORY; *attr = ram; return 0;
	case UEFI_MEM_ACPI_RECLAIM:	*type = EFI_ACPI_RECLAIM_MEMORY; *attr = ram; return 0;
	case UEFI_MEM_MMIO:
		/* RUNTIME: the kernel must map it for AML (OperationRegions). */
		*type = EFI_MEMORY_MAPPED_IO;
		*attr = EFI_MEMORY_UC | EFI_MEMORY_RUNTIME;
		return 0;
	}
	return -EINVAL;
}

static int check_regions(const struct uefi_mem_region *r, unsigned n)
{
	uint32_t type;
	uint64_t attr;

	if (!r || n == 0 || n > UINT32_MAX / EFI_MEMORY_DESC_SIZE)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (r[i].size == 0 || r[i].base % PAGE_SIZE_4K || r[i].size % PAGE_SIZE_4K ||
		    r[i].base + r[i].size < r[i].base || efi_type(r[i].type, &type, &attr))
			return -EINVAL;
		for (unsigned j = 0; j < i; j++)
			if (r[i].base < r[j].base + r[j].size && r[j].base < r[i].base + r[i].size)
				return -EINVAL;
	}
	return 0;
}

static void write_system_table(uint8_t *st, uint64_t vendor_gpa, uint64_t config_gpa)
{
	memset(st, 0, EFI_SYSTEM_TABLE_SIZE);
	/* EFI_TABLE_HEADER */
	put_le64(st + ST_HDR_SIGNATURE, EFI_SYSTEM_TABLE_SIGNATURE);
	put_le32(st + ST_HDR_REVISION, EFI_2_70_SYSTEM_TABLE_REVISION);
	put_le32(st + ST_HDR_HEADER_SIZE, EFI_SYSTEM_TABLE_SIZE);
	put_le32(st + ST_HDR_CRC32, 0);		/* zero while the CRC is computed */
	put_le32(st + ST_HDR_RESERVED, 0);
	/* FirmwareVendor, FirmwareRevision */
	put_le64(st + ST_FIRMWARE_VENDOR, vendor_gpa);
	put_le32(st + ST_FIRMWARE_REVISION, FIRMWARE_REVISION);
	/* ConsoleInHandle, ConIn, ConsoleOutHandle, ConOut, StandardErrorHandle,
	 * StdErr: no consoles. RuntimeServices, BootServices: none. */
	put_le64(st + ST_CON_IN_HANDLE, 0);
	put_le64(st + ST_CON_IN, 0);
	put_le64(st + ST_CON_OUT_HANDLE, 0);
	put_le64(st + ST_CON_OUT, 0);
	put_le64(st + ST_STDERR_HANDLE, 0);
	put_le64(st + ST_STDERR, 0);
	put_le64(st + ST_RUNTIME_SERVICES, 0);
	put_le64(st + ST_BOOT_SERVICES, 0);
	/* NumberOfTableEntries, ConfigurationTable */
	put_le64(st + ST_NR_TABLE_ENTRIES, 1);
	put_le64(st + ST_CONFIG_TABLE, config_gpa);
	put_le32(st + ST_HDR_CRC32, crc32(st, EFI_SYSTEM_TABLE_SIZE));
}

static void write_vendor(uint8_t *p)
{
	/* NUL-terminated CHAR16 (UCS-2) string. */
	for (size_t i = 0; i < sizeof(firmware_vendor); i++)
		put_le16(p + 2 * i, (uint16_t)firmware_vendor[i]);
}

static void write_config_table(uint8_t *ct, uint64_t rsdp_gpa)
{
	memcpy(ct, acpi_20_table_guid, sizeof(acpi_20_table_guid));	/* VendorGuid */
	put_le64(ct + 16, rsdp_gpa);					/* VendorTable */
}

static void write_descriptor(uint8_t *d, const struct uefi_mem_region *r)
{
	uint32_t type = 0;
	uint64_t attr = 0;

	(void)efi_type(r->type, &type, &attr);	/* validated by check_regions() */
	memset(d, 0, EFI_MEMORY_DESC_SIZE);
	put_le32(d + 0, type);				/* Type (+4 bytes padding) */
	put_le64(d + 8, r->base);			/* PhysicalStart */
	put_le64(d + 16, 0);				/* VirtualStart: set by SetVirtualAddressMap */
	put_le64(d + 24, r->size / PAGE_SIZE_4K);	/* NumberOfPages */
	put_le64(d + 32, attr);				/* Attribute */
}

/* Descriptors in address order; n is small, so selection is fine. */
static void write_memory_map(uint8_t *map, const struct uefi_mem_region *r, unsigned n)
{
	uint64_t last_end = 0;

	for (unsigned k = 0; k < n; k++) {
		const struct uefi_mem_region *next = NULL;

		for (unsigned i = 0; i < n; i++)
			if ((k == 0 || r[i].base >= last_end) && (!next || r[i].base < next->base))
				next = &r[i];
		write_descriptor(map + (size_t)k * EFI_MEMORY_DESC_SIZE, next);
		last_end = next->base + next->size;
	}
}

int uefi_build_handoff(uint8_t *buf, size_t cap, uint64_t buf_gpa, uint64_t rsdp_gpa,
		       const struct uefi_mem_region *regions, unsigned nr_regions,
		       struct uefi_handoff *out)
{
	const size_t vendor_off = EFI_SYSTEM_TABLE_SIZE;
	const size_t config_off = ALIGN_UP(vendor_off + 2 * sizeof(firmware_vendor), (size_t)8);
	const size_t map_off = config_off + EFI_CONFIG_TABLE_SIZE;
	size_t map_size, used;
	int ret;

	if (!buf || !out || buf_gpa % 8 || rsdp_gpa == 0)
		return -EINVAL;
	ret = check_regions(regions, nr_regions);
	if (ret)
		return ret;
	map_size = (size_t)nr_regions * EFI_MEMORY_DESC_SIZE;
	used = map_off + map_size;
	if (buf_gpa + used < buf_gpa)
		return -EINVAL;
	if (cap < used)
		return -ENOSPC;

	memset(buf, 0, used);
	write_vendor(buf + vendor_off);
	write_config_table(buf + config_off, rsdp_gpa);
	write_memory_map(buf + map_off, regions, nr_regions);
	write_system_table(buf, buf_gpa + vendor_off, buf_gpa + config_off);

	*out = (struct uefi_handoff){
		.systab_gpa = buf_gpa,
		.mmap_gpa = buf_gpa + map_off,
		.mmap_size = (uint32_t)map_size,
		.mmap_desc_size = EFI_MEMORY_DESC_SIZE,
		.mmap_desc_ver = EFI_MEMORY_DESC_VERSION,
		.used = used,
	};
	return 0;
}
