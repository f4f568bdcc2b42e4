# fish completion for iommu-groups (vfio-utils)

complete -c iommu-groups -f
complete -c iommu-groups -s s -l slot -x -a '(__vfio_utils_devices)' -d 'Groups holding a device at this address'
complete -c iommu-groups -s d -l device-id -x -a '(__vfio_utils_ids)' -d 'Groups holding a device with these IDs'
complete -c iommu-groups -s G -l gpu -d 'Groups holding a display controller'
complete -c iommu-groups -s a -l all -d 'Let a vendor:device match several devices'
complete -c iommu-groups -s k -l driver -d 'Append the driver in use'
complete -c iommu-groups -l ids -d 'Print the vfio-pci.ids list'
complete -c iommu-groups -l virsh -d 'Print the virsh node-device names'
complete -c iommu-groups -s C -l check -d 'Can the devices be passed through?'
complete -c iommu-groups -l status -d 'Is the IOMMU on?'
complete -c iommu-groups -l json -d 'Machine-readable output'
complete -c iommu-groups -l sysroot -r -a '(__fish_complete_directories)' -d 'Look up system trees below DIR'
complete -c iommu-groups -s v -l verbose -d 'Log each action'
complete -c iommu-groups -s q -l quiet -d 'Print errors only'
complete -c iommu-groups -s h -l help -d 'Show help'
complete -c iommu-groups -s V -l version -d 'Show version'
complete -c iommu-groups -a '(__vfio_utils_devices)' -d Device
complete -c iommu-groups -a '(__vfio_utils_groups)' -d 'IOMMU group'
