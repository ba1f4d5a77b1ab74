const _: () = {
    #[automatically_derived]
    impl ::buffer_runtime::PyBuffer for Readings {
        #[inline(always)]
        fn __export<'__a>(
            &'__a self,
            __ex: ::buffer_runtime::__private::Exporter<'__a>,
        ) -> ::core::result::Result<
            ::buffer_runtime::__private::Exported,
            ::buffer_runtime::ExportError,
        > {
            #[allow(unused_imports)]
            use ::buffer_runtime::__private::{NotStorage as _, ViaStorage as _};
            (&::buffer_runtime::__private::Probe(&self.values))
                .__buffer_export(
                    __ex,
                    ::buffer_runtime::__private::Shape::Natural,
                    ::buffer_runtime::__private::Strides::Order(
                        ::buffer_runtime::__private::Order::C,
                    ),
                    false,
                )
        }
        #[inline(always)]
        fn __type_cell() -> &'static ::buffer_runtime::__private::TypeCell {
            static CELL: ::buffer_runtime::__private::TypeCell = ::buffer_runtime::__private::TypeCell::new();
            &CELL
        }
    }
    #[automatically_derived]
    impl ::buffer_runtime::__private::Pickle for Readings {
        #[inline]
        fn __storage(
            &self,
        ) -> ::core::option::Option<&dyn ::buffer_runtime::__private::PickleDyn> {
            #[allow(unused_imports)]
            use ::buffer_runtime::__private::{NotPickleDyn as _, ViaPickleDyn as _};
            (&::buffer_runtime::__private::Probe(&self.values)).__pickle_dyn()
        }
        fn __fields<'py>(
            &self,
            __py: ::buffer_runtime::__private::pyo3::Python<'py>,
        ) -> ::buffer_runtime::__private::pyo3::PyResult<
            ::buffer_runtime::__private::pyo3::Bound<
                'py,
                ::buffer_runtime::__private::pyo3::types::PyTuple,
            >,
        > {
            #[allow(unused_imports)]
            use ::buffer_runtime::__private::{BoxedIntoPy as _, ViaIntoPy as _};
            let __values: [::buffer_runtime::__private::pyo3::Bound<
                'py,
                ::buffer_runtime::__private::pyo3::PyAny,
            >; 0usize] = [];
            ::buffer_runtime::__private::pyo3::types::PyTuple::new(__py, __values)
        }
        fn __unpickle(
            __data: &::buffer_runtime::__private::pyo3::Bound<
                '_,
                ::buffer_runtime::__private::pyo3::PyAny,
            >,
            __meta: &::buffer_runtime::__private::pyo3::Bound<
                '_,
                ::buffer_runtime::__private::pyo3::PyAny,
            >,
            __fields: &::buffer_runtime::__private::pyo3::Bound<
                '_,
                ::buffer_runtime::__private::pyo3::types::PyTuple,
            >,
        ) -> ::buffer_runtime::__private::pyo3::PyResult<Self> {
            #[allow(unused_imports)]
            use ::buffer_runtime::__private::{
                BoxedFromPy as _, NotPickle as _, ViaFromPy as _, ViaPickle as _,
            };
            ::buffer_runtime::__private::expect_fields(__fields, 0usize, "Readings")?;
            let __probe = ::buffer_runtime::__private::TypeProbe::of(|__s: &Self| {
                &__s.values
            });
            ::core::result::Result::Ok(Self {
                values: (&__probe).__unpickle_storage(__data, __meta)?,
            })
        }
        fn __duplicate(
            &self,
            __fields: &::buffer_runtime::__private::pyo3::Bound<
                '_,
                ::buffer_runtime::__private::pyo3::types::PyTuple,
            >,
        ) -> ::buffer_runtime::__private::pyo3::PyResult<Self> {
            #[allow(unused_imports)]
            use ::buffer_runtime::__private::{
                BoxedFromPy as _, NotPickle as _, ViaFromPy as _, ViaPickle as _,
            };
            ::buffer_runtime::__private::expect_fields(__fields, 0usize, "Readings")?;
            ::core::result::Result::Ok(Self {
                values: (&::buffer_runtime::__private::Probe(&self.values))
                    .__duplicate_storage()?,
            })
        }
    }
    #[allow(dead_code, unused_imports)]
    fn __buffer_checks() {
        #[allow(unused_imports)]
        use ::buffer_runtime::__private::NotFacts as _;
        let _ = <f64 as ::buffer_runtime::Shaped>::HAS_PADDING;
        fn storage<S: ?::core::marker::Sized + ::buffer_runtime::Storage>(
            _: ::core::marker::PhantomData<S>,
        ) {}
        storage(::buffer_runtime::__private::Facts::<f64>::field_type::<Vec<f64>>());
    }
    const _: () = {
        #[allow(unused_imports)]
        use ::buffer_runtime::__private::NotFacts as _;
        ::core::assert!(
            ! ::buffer_runtime::__private::Facts:: < f64 > ::HAS_PADDING,
            "these elements have padding bytes, which plain storage would show Python uninitialised: store them in `SharedVec`/`SharedArray` (they zero padding) or add explicit padding fields",
        );
    };
    #[allow(dead_code, unused_imports)]
    fn __buffer_slots() {
        #[allow(unused_imports)]
        use ::buffer_runtime::__private::NotFacts as _;
        fn buffer_methods<T: ::buffer_runtime::BufferSlots>(
            _: ::core::marker::PhantomData<T>,
        ) {}
        buffer_methods(::buffer_runtime::__private::Facts::<Readings>::py_class());
    }
};
#[pymethods]
impl Readings {
    /// `bf_getbuffer`, generated by `#[buffer_methods]`.
    unsafe fn __getbuffer__(
        slf: &::buffer_runtime::__private::pyo3::Bound<'_, Self>,
        view: *mut ::buffer_runtime::__private::pyo3::ffi::Py_buffer,
        flags: ::std::os::raw::c_int,
    ) -> ::buffer_runtime::__private::pyo3::PyResult<()> {
        #[allow(unused_imports)]
        use ::buffer_runtime::__private::NotSlots as _;
        let _ = <Self as ::buffer_runtime::PyBuffer>::__export;
        unsafe {
            ::buffer_runtime::__private::Slots::<Self>::getbuffer(slf, view, flags)
        }
    }
    /// `bf_releasebuffer`, generated by `#[buffer_methods]`.
    unsafe fn __releasebuffer__(
        slf: &::buffer_runtime::__private::pyo3::Bound<'_, Self>,
        view: *mut ::buffer_runtime::__private::pyo3::ffi::Py_buffer,
    ) {
        #[allow(unused_imports)]
        use ::buffer_runtime::__private::NotSlots as _;
        unsafe { ::buffer_runtime::__private::Slots::<Self>::releasebuffer(slf, view) }
    }
    /// Pickle, copy and DLPack support, generated by `#[buffer_methods]`: computed once,
    /// when the type is created, it installs `__reduce_ex__`, `__copy__`, `__deepcopy__`,
    /// `__dlpack__` and `__dlpack_device__`, and is the classmethod that rebuilds a pickled
    /// object.
    #[classattr]
    fn _buffer_restore(
        py: ::buffer_runtime::__private::pyo3::Python<'_>,
    ) -> ::buffer_runtime::__private::pyo3::PyResult<
        ::buffer_runtime::__private::pyo3::Py<::buffer_runtime::__private::pyo3::PyAny>,
    > {
        ::buffer_runtime::__private::install_methods::<Self>(py)
    }
}
const _: () = {
    #[allow(unused_imports)]
    use ::buffer_runtime::__private::NotPickling as _;
    #[automatically_derived]
    impl ::buffer_runtime::__private::ClassMethods for Readings {
        fn install_slots(
            py: ::buffer_runtime::__private::pyo3::Python<'_>,
        ) -> ::buffer_runtime::__private::pyo3::PyResult<()> {
            #[allow(unused_imports)]
            use ::buffer_runtime::__private::NotSlots as _;
            ::buffer_runtime::__private::Slots::<Self>::install(py)
        }
        fn reduce_ex<'py>(
            slf: &::buffer_runtime::__private::pyo3::Bound<'py, Self>,
            protocol: i64,
        ) -> ::buffer_runtime::__private::pyo3::PyResult<
            ::buffer_runtime::__private::pyo3::Bound<
                'py,
                ::buffer_runtime::__private::pyo3::PyAny,
            >,
        > {
            ::buffer_runtime::__private::Pickling::<Self>::reduce_ex(slf, protocol)
        }
        fn restore<'py>(
            cls: &::buffer_runtime::__private::pyo3::Bound<
                'py,
                ::buffer_runtime::__private::pyo3::types::PyType,
            >,
            data: &::buffer_runtime::__private::pyo3::Bound<
                'py,
                ::buffer_runtime::__private::pyo3::PyAny,
            >,
            meta: &::buffer_runtime::__private::pyo3::Bound<
                'py,
                ::buffer_runtime::__private::pyo3::PyAny,
            >,
            fields: &::buffer_runtime::__private::pyo3::Bound<
                'py,
                ::buffer_runtime::__private::pyo3::types::PyTuple,
            >,
        ) -> ::buffer_runtime::__private::pyo3::PyResult<
            ::buffer_runtime::__private::pyo3::Bound<
                'py,
                ::buffer_runtime::__private::pyo3::PyAny,
            >,
        > {
            ::buffer_runtime::__private::Pickling::<
                Self,
            >::restore(cls, data, meta, fields)
        }
        fn copy<'py>(
            slf: &::buffer_runtime::__private::pyo3::Bound<'py, Self>,
            memo: ::core::option::Option<
                &::buffer_runtime::__private::pyo3::Bound<
                    'py,
                    ::buffer_runtime::__private::pyo3::PyAny,
                >,
            >,
        ) -> ::buffer_runtime::__private::pyo3::PyResult<
            ::buffer_runtime::__private::pyo3::Bound<
                'py,
                ::buffer_runtime::__private::pyo3::PyAny,
            >,
        > {
            ::buffer_runtime::__private::Pickling::<Self>::copy(slf, memo)
        }
    }
};
const _: () = {
    #[automatically_derived]
    impl ::buffer_runtime::__private::BufferSlots for Readings {}
};
