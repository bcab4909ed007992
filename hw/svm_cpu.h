/*
 * svm_cpu.h — a processor's SVM state outside the VMCB (APM Vol. 2
 * 15.17): the global interrupt flag. The running guest's controls are
 * cached in cpu->svm_ctl at VMRUN.
 */
#ifndef HVLAB_HW_SVM_CPU_H
#define HVLAB_HW_SVM_CPU_H

#include <stdbool.h>

struct svm_cpu {
	bool gif;		/* global interrupt flag (STGI/CLGI) */
};

#endif
