// Out-of-line anchor so the error classes' vtables live in one translation unit.
#include "embflow/error.h"
