/*
 * pci.c — PCI configuration mechanism #1 (PCI Local Bus Specification
 * 3.0, 3.2.2.3.2 "Software Generation of Configuration Transactions"),
 * with the one device QEMU's pc machine always has: the i440FX host
 * bridge at bus 0, device 0, function 0.
 *
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
 * The host bridge's header (PCI 3.0, 6.1, type 0 header), as a QEMU 7.2
 * -kernel guest reads it: vendor 0x8086, device 0x1237 (82441FX, the
 * i440FX QEMU models), revision 0x02, class 0x060000 (bridge, host
 * bridge), header type 0, status 0 (QEMU's; the 82441FX datasheet's
 * default is 0x0280), subsystem 0x1af4:0x1100 (Red Hat, QEMU), command
 * 0x0103 (I/O, memory, SERR#: as SeaBIOS leaves it). Only the command
 * register is writable, in the bits QEMU implements: I/O space, memory
 * space, bus master, SERR# enable and interrupt disable (0x0507; 6.2.2
 * lets a device hardwire the others to 0). Every other register,
 * including the chipset's own (PAM, SMRAM), is read-only: hvlab has no
 * BIOS shadowing for them to control. Port 0xcf9 (the PIIX reset control
 * register) is not modelled.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "vmm/dev.h"

#define PCI_PORT 0xcf8
#define PCI_DATA 0xcfc
#define PCI_ENABLE (1u << 31)
#define PCI_ADDR_MASK 0x80fffffcu	/* the bits CONFIG_ADDRESS keeps */

#define PCI_COMMAND 0x04
#define PCI_COMMAND_WMASK 0x0507

struct pci {
	struct vdev dev;
	uint32_t addr;
	uint8_t bridge[256];	/* bus 0, device 0, function 0 */
};

static struct pci *to_pci(struct vdev *d)
{
	return (struct pci *)((char *)d - offsetof(struct pci, dev));
}

static uint32_t ones(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* The bridge's config space is the only one: bus 0, device 0, function 0. */
static bool selects_bridge(uint32_t addr)
{
	return (addr & PCI_ENABLE) && !(addr & 0x00ffff00u);
}

static uint32_t pci_in(struct vdev *d, uint16_t port, unsigned size)
{
	struct pci *p = to_pci(d);
	uint32_t val = 0;
	unsigned reg;
	if (port < PCI_DATA)
		return port == PCI_PORT ? p->addr : 0xffffffffu;	/* the bus cuts it to size */
	if (!selects_bridge(p->addr))
		return ones(size);
	reg = (p->addr & 0xfc) + (port & 3u);
	for (unsigned i = 0; i < size; i++)
		val |= (uint32_t)(reg + i < 256 ? p->bridge[reg + i] : 0xff) << (8 * i);
	return val;
}

static void pci_out(struct vdev *d, uint16_t port, unsigned size, uint32_t val)
{
	struct pci *p = to_pci(d);
	unsigned reg;
	if (port < PCI_DATA) {
		if (port == PCI_PORT && size == 4)
			p->addr = val & PCI_ADDR_MASK;
		return;
	}
	if (!selects_bridge(p->addr))
		return;
	reg = (p->addr & 0xfc) + (port & 3u);
	for (unsigned i = 0; i < size; i++) {
		unsigned r = reg + i;
		uint8_t b = (uint8_t)(val >> (8 * i));
		if (r == PCI_COMMAND || r == PCI_COMMAND + 1) {
			uint8_t wm = (uint8_t)(PCI_COMMAND_WMASK >> (8 * (r - PCI_COMMAND)));
			p->bridge[r] = (uint8_t)((p->bridge[r] & ~wm) | (b & wm));
		}
	}
}

static void put16(uint8_t *cfg, unsigned off, uint16_t v)
{
	cfg[off] = (uint8_t)v;
	cfg[off + 1] = (uint8_t)(v >> 8);
}

static void pci_destroy(struct vdev *d)
{
	free(to_pci(d));
}

int pci_create(struct vmm *v, struct vdev **out)
{
	struct pci *p;
	if (!v || !out)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	put16(p->bridge, 0x00, 0x8086);		/* vendor: Intel */
	put16(p->bridge, 0x02, 0x1237);		/* device: 82441FX PMC */
	put16(p->bridge, 0x04, 0x0103);		/* command */
	put16(p->bridge, 0x2c, 0x1af4);		/* subsystem vendor */
	put16(p->bridge, 0x2e, 0x1100);		/* subsystem */
	p->bridge[0x08] = 0x02;			/* revision */
	p->bridge[0x09] = 0x00;			/* programming interface */
	p->bridge[0x0a] = 0x00;			/* subclass: host bridge */
	p->bridge[0x0b] = 0x06;			/* class: bridge */
	p->bridge[0x0e] = 0x00;			/* header type 0, single function */
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
