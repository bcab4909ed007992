/*
 * pci.c — PCI configuration mechanism #1 (PCI Local Bus Specification
 * 3.0, 3.2.2.3.2 "Software Generation of Configuration Transactions"),
 * with the functions a QEMU 7.2 `-nodefaults` pc machine has on bus 0:
 *
 *   00:00.0  8086:1237  i440FX host bridge (82441FX PMC), class 06 00 00
 *   00:01.0  8086:7000  PIIX3 PCI-to-ISA bridge, class 06 01 00,
 *                       multifunction (header type 0x80)
 *   00:01.1  8086:7010  PIIX3 IDE, class 01 01 80 (bus-master capable,
 *                       both channels in legacy mode)
 *   00:01.3  8086:7113  PIIX4 power management (ACPI), revision 3,
 *                       class 06 80 00
 *
 * Ports:
 *   0xcf8       CONFIG_ADDRESS, written only by 32-bit accesses (the
 *               spec: narrower ones are ordinary I/O, which the bridge
 *               defines; like QEMU's, byte and word reads of 0xcf8 return
 *               its low bytes and such writes are ignored). Bit 31 enable,
 *               23:16 bus, 15:11 device, 10:8 function, 7:2 register;
 *               bits 30:24 and 1:0 are reserved and read back as 0.
 *   0xcfc-0xcff CONFIG_DATA, any width; the port's low two bits select
 *               the byte within the dword register. With the enable bit
 *               clear, reads return all ones and writes are ignored.
 *
 * A function that does not exist reads all ones (3.2.2.3.2: a master
 * abort on a configuration read returns all ones), which is how software
 * enumerates: vendor ID 0xffff means "nothing here".
 *
 * Configuration space only: the headers (6.1, type 0) hold what a QEMU 7.2
 * -kernel guest reads after SeaBIOS ran — IDs, revision, class, header
 * type, command 0x0103 (I/O, memory, SERR#), status (0 on the host
 * bridge, 0x0200 DEVSEL medium on the ISA bridge, 0x0280 with fast
 * back-to-back on the others), subsystem 0x1af4:0x1100 (Red Hat, QEMU),
 * the IDE function's bus-master BAR 4 at I/O 0xc000 (16 ports) and the PM
 * function's interrupt line 9 / pin INTA#. No device sits behind them:
 * the IDE function decodes no ports, and of the PM function's own
 * registers only PMBA (0x40, I/O base 0x600) and PMREGMISC (0x80, bit 0
 * PMIOSE) are set, saying where hvlab's PM block (vmm/pmtimer.c) already
 * is. Every other device-specific register (0x40-0xff) reads 0 and
 * ignores writes, including the host bridge's PAM/SMRAM (no BIOS
 * shadowing to control) and the PIIX3's PIRQ routing (no PCI interrupts).
 *
 * Writable, as 6.2 allows and QEMU implements them: command bits I/O,
 * memory, bus master, SERR# enable, interrupt disable (0x0507; 6.2.2 lets
 * a device hardwire the rest to 0), Cache Line Size (6.2.4) and Interrupt
 * Line (6.2.4: a scratch register for software), and BAR 4 of the IDE
 * function in bits 31:4 (6.2.5.1: the low bits a BAR hardwires give its
 * size, here 16 bytes, and bit 0 = 1 says I/O space), so the usual sizing
 * (write all ones, read back 0xfffffff1) works. Status has no RW1C bit
 * set to clear, so it is read-only here. Port 0xcf9 (the PIIX reset
 * control register) is not modelled.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "vmm/dev.h"

#define PCI_PORT 0xcf8
#define PCI_DATA 0xcfc
#define PCI_ENABLE (1u << 31)
#define PCI_ADDR_MASK 0x80fffffcu	/* the bits CONFIG_ADDRESS keeps */
#define PCI_ADDR_BUS 0x00ff0000u
#define PCI_ADDR_DEVFN 0x0000ff00u

/* Type 0 header offsets (PCI 3.0, Figure 6-1). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_PROG_IF 0x09
#define PCI_SUBCLASS 0x0a
#define PCI_CLASS 0x0b
#define PCI_CACHE_LINE 0x0c
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR4 0x20
#define PCI_SUBSYS_VENDOR 0x2c
#define PCI_SUBSYS_ID 0x2e
#define PCI_INT_LINE 0x3c
#define PCI_INT_PIN 0x3d

#define PCI_COMMAND_WMASK 0x0507
#define PCI_CMD_SEABIOS 0x0103		/* I/O, memory, SERR# */
#define PCI_STATUS_FB2B 0x0080		/* fast back-to-back capable */
#define PCI_STATUS_DEVSEL_MEDIUM 0x0200
#define PCI_HEADER_MULTIFN 0x80
#define PCI_BAR_IO 0x1u

/* PIIX4 function 3's own registers (82371AB datasheet, 7.1). */
#define PIIX4_PMBA 0x40
#define PIIX4_PMREGMISC 0x80
#define PIIX4_PMIOSE 0x01
#define HVLAB_PM_BASE 0x600		/* vmm/pmtimer.c, the FADT's PM1a_EVT */

#define PCI_DEVFN(dev, fn) ((dev) << 3 | (fn))
#define PCI_NFUNCS 4

struct pci_fn {
	uint8_t devfn;
	uint8_t cfg[256];
	uint8_t wmask[256];	/* 1: the bit takes what the guest writes */
};

struct pci {
	struct vdev dev;
	uint32_t addr;
	struct pci_fn fn[PCI_NFUNCS];
};

static struct pci *to_pci(struct vdev *d)
{
	return (struct pci *)((char *)d - offsetof(struct pci, dev));
}

static uint32_t ones(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* The function CONFIG_ADDRESS selects, or NULL (enable clear, another bus,
 * or nothing at that device/function). */
static struct pci_fn *selected(struct pci *p)
{
	if (!(p->addr & PCI_ENABLE) || (p->addr & PCI_ADDR_BUS))
		return NULL;
	for (unsigned i = 0; i < PCI_NFUNCS; i++)
		if (p->fn[i].devfn == (p->addr & PCI_ADDR_DEVFN) >> 8)
			return &p->fn[i];
	return NULL;
}

static uint32_t pci_in(struct vdev *d, uint16_t port, unsigned size)
{
	struct pci *p = to_pci(d);
	struct pci_fn *f;
	uint32_t val = 0;
	unsigned reg;
	if (port < PCI_DATA)
		return port == PCI_PORT ? p->addr : 0xffffffffu;	/* the bus cuts it to size */
	if (!(f = selected(p)))
		return ones(size);
	reg = (p->addr & 0xfc) + (port & 3u);
	for (unsigned i = 0; i < size; i++)
		val |= (uint32_t)(reg + i < 256 ? f->cfg[reg + i] : 0xff) << (8 * i);
	return val;
}

static void pci_out(struct vdev *d, uint16_t port, unsigned size, uint32_t val)
{
	struct pci *p = to_pci(d);
	struct pci_fn *f;
	unsigned reg;
	if (port < PCI_DATA) {
		if (port == PCI_PORT && size == 4)
			p->addr = val & PCI_ADDR_MASK;
		return;
	}
	if (!(f = selected(p)))
		return;
	reg = (p->addr & 0xfc) + (port & 3u);
	for (unsigned i = 0; i < size && reg + i < 256; i++) {
		unsigned r = reg + i;
		uint8_t b = (uint8_t)(val >> (8 * i));
		f->cfg[r] = (uint8_t)((f->cfg[r] & ~f->wmask[r]) | (b & f->wmask[r]));
	}
}

static void put16(uint8_t *cfg, unsigned off, uint16_t v)
{
	cfg[off] = (uint8_t)v;
	cfg[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *cfg, unsigned off, uint32_t v)
{
	put16(cfg, off, (uint16_t)v);
	put16(cfg, off + 2, (uint16_t)(v >> 16));
}

/* The part every function shares: IDs, class, command as SeaBIOS leaves
 * it, QEMU's subsystem IDs and the writable bits of 6.2.2 and 6.2.4. */
static void header(struct pci_fn *f, unsigned dev, unsigned fn, uint16_t device, uint8_t rev,
		   uint32_t class, uint16_t status, uint8_t header_type)
{
	f->devfn = (uint8_t)PCI_DEVFN(dev, fn);
	put16(f->cfg, PCI_VENDOR_ID, 0x8086);		/* Intel */
	put16(f->cfg, PCI_DEVICE_ID, device);
	put16(f->cfg, PCI_COMMAND, PCI_CMD_SEABIOS);
	put16(f->cfg, PCI_STATUS, status);
	f->cfg[PCI_REVISION] = rev;
	f->cfg[PCI_PROG_IF] = (uint8_t)class;
	f->cfg[PCI_SUBCLASS] = (uint8_t)(class >> 8);
	f->cfg[PCI_CLASS] = (uint8_t)(class >> 16);
	f->cfg[PCI_HEADER_TYPE] = header_type;
	put16(f->cfg, PCI_SUBSYS_VENDOR, 0x1af4);
	put16(f->cfg, PCI_SUBSYS_ID, 0x1100);
	put16(f->wmask, PCI_COMMAND, PCI_COMMAND_WMASK);
	f->wmask[PCI_CACHE_LINE] = 0xff;
	f->wmask[PCI_INT_LINE] = 0xff;
}

static void pci_destroy(struct vdev *d)
{
	free(to_pci(d));
}

int pci_create(struct vmm *v, struct vdev **out)
{
	struct pci *p;
	struct pci_fn *f;
	if (!v || !out)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	header(&p->fn[0], 0, 0, 0x1237, 0x02, 0x060000, 0, 0);
	header(&p->fn[1], 1, 0, 0x7000, 0x00, 0x060100, PCI_STATUS_DEVSEL_MEDIUM, PCI_HEADER_MULTIFN);

	f = &p->fn[2];
	header(f, 1, 1, 0x7010, 0x00, 0x010180, PCI_STATUS_DEVSEL_MEDIUM | PCI_STATUS_FB2B, 0);
	put32(f->cfg, PCI_BAR4, 0xc000 | PCI_BAR_IO);
	put32(f->wmask, PCI_BAR4, 0xfffffff0u);		/* 16 ports */

	f = &p->fn[3];
	header(f, 1, 3, 0x7113, 0x03, 0x068000, PCI_STATUS_DEVSEL_MEDIUM | PCI_STATUS_FB2B, 0);
	f->cfg[PCI_INT_LINE] = 9;			/* the SCI, as the FADT says */
	f->cfg[PCI_INT_PIN] = 1;			/* INTA# */
	put32(f->cfg, PIIX4_PMBA, HVLAB_PM_BASE | PCI_BAR_IO);
	f->cfg[PIIX4_PMREGMISC] = PIIX4_PMIOSE;

	p->dev.name = "pci-host";
	p->dev.port = PCI_PORT;
	p->dev.nports = 8;
	p->dev.pio_in = pci_in;
	p->dev.pio_out = pci_out;
	p->dev.destroy = pci_destroy;
	p->dev.vmm = v;
	*out = &p->dev;
	return 0;
}
