/*
 * fwcfg.c — QEMU's firmware configuration device (fw_cfg) on I/O ports,
 * the traditional interface of QEMU docs/specs/fw_cfg.txt:
 *
 *   0x510  selector, 16-bit write: picks an item and rewinds the data
 *          offset to 0 ("Selector (Control) Register").
 *   0x511  data, 8-bit read: the next byte of the item; past the item's
 *          end, 0x00 ("Data Register"). Writes are ignored, as QEMU has
 *          ignored them since v2.4.
 * As in QEMU, whose two ports are one region accepting byte accesses
 * anywhere, a byte read of 0x510 reads data too; wider reads are invalid
 * there and return 0 without moving the offset (what QEMU 7.2 returns).
 *
 * Selector bit 14 asks for write access and bit 15 for the architecture-
 * specific range ("Ranges"); no item here is writable or
 * architecture-specific, so such keys select an empty item and read 0.
 * No DMA interface: FW_CFG_ID has bit 1 clear and port 0x514 is not
 * decoded.
 *
 * Items (keys 0x0000, 0x0001 and 0x0019 from fw_cfg.txt, which sends the
 * reader to QEMU's source for the rest; their values as QEMU's key list,
 * mirrored in Linux's include/uapi/linux/qemu_fw_cfg.h, gives them):
 *   0x0000 FW_CFG_SIGNATURE      "QEMU"
 *   0x0001 FW_CFG_ID             uint32 LE, 1 (bit 0: traditional interface)
 *   0x0003 FW_CFG_RAM_SIZE       uint64 LE, struct vmm.ram_size
 *   0x0005 FW_CFG_NB_CPUS        uint16 LE, struct vmm.ncpus (0 reads as 1)
 *   0x000f FW_CFG_MAX_CPUS       uint16 LE, the same: on x86 QEMU stores
 *                                the APIC ID limit, and APIC IDs are 0..n-1
 *   0x0014 FW_CFG_CMDLINE_SIZE   uint32 LE, strlen(cmdline) + 1
 *   0x0015 FW_CFG_CMDLINE_DATA   the command line with its NUL
 *   0x0019 FW_CFG_FILE_DIR       uint32 BE count 0: no files
 * No files: QEMU's directory (etc/e820, etc/acpi/rsdp, ...) serves firmware,
 * which a -kernel guest has already run through, and its ACPI blobs are
 * only usable through the etc/table-loader commands; a kernel finds the
 * same facts in the multiboot memory map and the tables of vmm/acpi.c.
 * docs/devices.md lists where QEMU 7.2 differs.
 * With struct vmm.cmdline NULL the two command-line items do not exist
 * (they read 0, so the size reads 0), as for a multiboot kernel under
 * QEMU, which passes its command line through multiboot instead. Values
 * are captured when the device is created.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/dev.h"

#define FWCFG_PORT 0x510

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_CMDLINE_SIZE 0x14
#define FW_CFG_CMDLINE_DATA 0x15
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_KEY_MASK 0x3fff
#define FW_CFG_WRITE (1u << 14)
#define FW_CFG_ARCH (1u << 15)

#define FW_CFG_VERSION 0x01	/* FW_CFG_ID bit 0: the traditional interface */

struct fwcfg_item {
	const uint8_t *data;
	uint32_t len;
};

struct fwcfg {
	struct vdev dev;
	uint16_t selector;
	uint32_t offset;
	uint8_t id[4], ram_size[8], ncpus[2], cmdline_size[4], file_dir[4];
	char *cmdline;		/* with its NUL; NULL: no command-line items */
	uint32_t cmdline_len;
};

static struct fwcfg *to_fwcfg(struct vdev *d)
{
	return (struct fwcfg *)((char *)d - offsetof(struct fwcfg, dev));
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static struct fwcfg_item fwcfg_item(struct fwcfg *f, uint16_t selector)
{
	struct fwcfg_item it = { NULL, 0 };
	if (selector & (FW_CFG_WRITE | FW_CFG_ARCH))
		return it;
	switch (selector & FW_CFG_KEY_MASK) {
	case FW_CFG_SIGNATURE:
		it.data = (const uint8_t *)"QEMU";
		it.len = 4;
		break;
	case FW_CFG_ID:
		it.data = f->id;
		it.len = sizeof(f->id);
		break;
	case FW_CFG_RAM_SIZE:
		it.data = f->ram_size;
		it.len = sizeof(f->ram_size);
		break;
	case FW_CFG_NB_CPUS:
		it.data = f->ncpus;
		it.len = sizeof(f->ncpus);
		break;
	case FW_CFG_MAX_CPUS:
		it.data = f->ncpus;
		it.len = sizeof(f->ncpus);
		break;
	case FW_CFG_CMDLINE_SIZE:
		if (f->cmdline) {
			it.data = f->cmdline_size;
			it.len = sizeof(f->cmdline_size);
		}
		break;
	case FW_CFG_CMDLINE_DATA:
		it.data = (const uint8_t *)f->cmdline;
		it.len = f->cmdline_len;
		break;
	case FW_CFG_FILE_DIR:
		it.data = f->file_dir;
		it.len = sizeof(f->file_dir);
		break;
	}
	return it;
}

static uint32_t fwcfg_in(struct vdev *d, uint16_t port, unsigned size)
{
	struct fwcfg *f = to_fwcfg(d);
	struct fwcfg_item it;
	uint8_t b = 0;
	if (size != 1)
		return 0;
	it = fwcfg_item(f, f->selector);
	if (f->offset < it.len)
		b = it.data[f->offset];
	if (f->offset < UINT32_MAX)
		f->offset++;
	return b;
}

static void fwcfg_out(struct vdev *d, uint16_t port, unsigned size, uint32_t val)
{
	struct fwcfg *f = to_fwcfg(d);
	if (port == FWCFG_PORT && size == 2) {
		f->selector = (uint16_t)val;
		f->offset = 0;
	}
}

static void fwcfg_destroy(struct vdev *d)
{
	struct fwcfg *f = to_fwcfg(d);
	free(f->cmdline);
	free(f);
}

int fwcfg_create(struct vmm *v, struct vdev **out)
{
	size_t len = 0;
	struct fwcfg *f;
	if (!v || !out)
		return -EINVAL;
	if (v->cmdline && (len = strlen(v->cmdline) + 1) > UINT32_MAX)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	if (v->cmdline) {
		f->cmdline = malloc(len);
		if (!f->cmdline) {
			free(f);
			return -ENOMEM;
		}
		memcpy(f->cmdline, v->cmdline, len);
		f->cmdline_len = (uint32_t)len;
	}
	put_le(f->id, FW_CFG_VERSION, 4);
	put_le(f->ram_size, v->ram_size, 8);
	put_le(f->ncpus, v->ncpus ? v->ncpus : 1, 2);
	put_le(f->cmdline_size, len, 4);
	/* file_dir stays zero: a big-endian count of 0 is four zero bytes. */
	f->dev.name = "fw_cfg";
	f->dev.port = FWCFG_PORT;
	f->dev.nports = 2;
	f->dev.pio_in = fwcfg_in;
	f->dev.pio_out = fwcfg_out;
	f->dev.destroy = fwcfg_destroy;
	f->dev.vmm = v;
	*out = &f->dev;
	return 0;
}
