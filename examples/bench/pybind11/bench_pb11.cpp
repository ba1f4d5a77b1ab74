// Peer 3: a pybind11 `def_buffer` provider.
//
// Pb11Buffer(n=128): n float64 zeros, exported as a writable 1-D 'd' buffer through pybind11's
// standard def_buffer mechanism: the lambda returns a py::buffer_info, which pybind11 heap-
// allocates per export (it owns the shape/strides vectors the view points to) and deletes in its
// bf_releasebuffer. pybind11 offers no release hook to the class, so this peer cannot count
// exports or refuse a resize while exported; it has no resize method for that reason.
#include <pybind11/pybind11.h>

#include <cstddef>
#include <vector>

namespace py = pybind11;

struct Pb11Buffer {
    std::vector<double> data;
    explicit Pb11Buffer(py::ssize_t n) : data(static_cast<std::size_t>(n), 0.0) {}
};

PYBIND11_MODULE(bench_pb11, m) {
    m.doc() = "pybind11 def_buffer provider (benchmark peer).";
    py::class_<Pb11Buffer>(m, "Pb11Buffer", py::buffer_protocol())
        .def(py::init([](py::ssize_t n) {
                 if (n < 0) throw py::value_error("negative size");
                 return new Pb11Buffer(n);
             }),
             py::arg("n") = 128)
        .def("__len__", [](const Pb11Buffer &b) { return b.data.size(); })
        .def_buffer([](Pb11Buffer &b) -> py::buffer_info {
            return py::buffer_info(b.data.data(), sizeof(double),
                                   py::format_descriptor<double>::format(), 1,
                                   {static_cast<py::ssize_t>(b.data.size())},
                                   {static_cast<py::ssize_t>(sizeof(double))},
                                   /*readonly=*/false);
        });
}
