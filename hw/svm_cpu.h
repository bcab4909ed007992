/*
 * svm_cpu.h — a processor's SVM state (APM Vol. 2 15.4, 15.17): the
 * global interrupt flag and the VMCB of the guest running now.
 */
#ifndef HVLAB_HW_SVM_CPU_H
#define HVLAB_HW_SVM_CPU_H

#include <stdbool.h>

#include "hvlab/types.h"

struct svm_cpu {
	bool gif;		/* global interrupt flag (STGI/CLGI) */
	hpa_t vmcb;		/* VMCB of the running guest */
};

#endif
