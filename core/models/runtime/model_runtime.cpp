// Device choice and weight placement shared by the SAM and U²-Net models.
#include "models/runtime/model_runtime.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <cstring>

namespace ps::runtime {

void wait_for(const at::Tensor& tensor) {
    if (tensor.is_cuda() && tensor.numel() > 0) (void)tensor.flatten()[0].item<float>();
}

at::ScalarType scalar_type_of(Precision precision) {
    switch (precision) {
        case Precision::Fp16:
            return at::kHalf;
        case Precision::Bf16:
            return at::kBFloat16;
        default:
            return at::kFloat;
    }
}

Result<at::Device> choose_device(const std::string& label, Device device, Precision precision) {
    if (device == Device::Cuda && !cuda_available()) {
        return make_error(ErrorKind::Unsupported,
                          label +
                              ": device cuda requested, but this build of LibTorch has no "
                              "CUDA or no GPU answers");
    }
    const bool use_cuda = device == Device::Cuda || (device == Device::Auto && cuda_available());
    if (!use_cuda && precision == Precision::Fp16) {
        return make_error(ErrorKind::Unsupported,
                          label + ": fp16 is not supported on the CPU (use fp32 or bf16)");
    }
    return use_cuda ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
}

std::map<std::string, at::Tensor> place_tensors(const std::map<std::string, at::Tensor>& tensors,
                                                at::Device device, Precision precision,
                                                bool cudnn_benchmark) {
    if (device.is_cuda() && precision == Precision::Fp32) {
        at::globalContext().setAllowTF32CuDNN(false);
        at::globalContext().setAllowTF32CuBLAS(false);
    }
    if (device.is_cuda()) {
        // Our shapes are fixed per model, so cuDNN may time its algorithms once per shape (in the
        // warm-up run before a CUDA graph records) instead of guessing from heuristics. Only in
        // half precision: in fp32 (TF32 off) the trials reserved up to 9 GB of workspace on an
        // H100 (peak VRAM of a ViT-B run 0.8 -> 9.3 GB). The flag is global: the last load sets it.
        at::globalContext().setBenchmarkCuDNN(precision != Precision::Fp32 && cudnn_benchmark);
    }
    const at::ScalarType dtype = scalar_type_of(precision);
    std::map<std::string, at::Tensor> placed;
    for (const auto& [key, tensor] : tensors) {
        const bool floating = at::isFloatingType(tensor.scalar_type());
        placed[key] = tensor.to(device, floating ? dtype : tensor.scalar_type());
    }
    return placed;
}

ConvPlacement place_conv_tensors(const std::map<std::string, at::Tensor>& tensors,
                                 at::Device device, Precision precision, bool cudnn_benchmark,
                                 bool channels_last) {
    ConvPlacement out;
    out.tensors = place_tensors(tensors, device, precision, cudnn_benchmark);
    out.channels_last = channels_last && device.is_cuda() && precision != Precision::Fp32;
    if (out.channels_last)
        for (auto& [name, t] : out.tensors)
            if (t.dim() == 4) t = t.contiguous(at::MemoryFormat::ChannelsLast);
    return out;
}

}  // namespace ps::runtime
