/* placeholder replaced below */
#include "check_ijepa.h"
Suite *ijepa_ckpt_interop_suite(void) { return suite_create("ckpt_interop"); }
