# vfio-utils completion helper: the IOMMU groups of the tree the command line
# points at.
function __vfio_utils_groups
    set -l root (__vfio_utils_sysroot)
    for g in $root/sys/kernel/iommu_groups/*
        string replace -r ".*/" "" -- $g
    end
end
