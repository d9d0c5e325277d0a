// Placeholder translation unit until the weights downloader lands (delete when adding files).
namespace ps::net {}
