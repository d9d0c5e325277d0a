// Resource registration: Q_INIT_RESOURCE must be used outside any namespace.
#include "resources.h"

#include <QtGlobal>

static void register_photosynth_resources() {
    Q_INIT_RESOURCE(photosynth);
}

namespace ps::ui {

void init_resources() {
    static const bool registered = (register_photosynth_resources(), true);
    (void)registered;
}

}  // namespace ps::ui
