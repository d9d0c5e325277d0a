// Engine settings the tests share: two workers, CPU, so results do not depend on the machine.
#pragma once

#include "engine/engine_settings.h"

inline ps::engine::EngineSettings cpu_test_settings(int workers = 2) {
    ps::engine::EngineSettings s;
    s.max_workers = workers;
    s.device = ps::runtime::Device::Cpu;
    s.host_cache_bytes = 256LL << 20;
    return s;
}
