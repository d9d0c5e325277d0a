// Editing state shared by the GUI and tests.
namespace ps::editing {}
