# fish completion for vfio-boot (vfio-utils)

function __vfio_boot_bound
    set -l root (__vfio_utils_sysroot)
    string replace -rf '^(?:0000:)?([0-9a-f:.]+) kind=device .*' '$1' <$root/var/lib/vfio-utils/boot 2>/dev/null
end

complete -c vfio-boot -f
complete -c vfio-boot -n __fish_use_subcommand -a status -d 'This boot and the next, parameters and devices'
complete -c vfio-boot -n __fish_use_subcommand -a iommu -d 'The IOMMU parameters on, or those vfio-boot added off'
complete -c vfio-boot -n __fish_use_subcommand -a bind -d 'Give devices to vfio-pci from the next boot on'
complete -c vfio-boot -n __fish_use_subcommand -a unbind -d 'Leave devices to their usual driver from the next boot on'
complete -c vfio-boot -n __fish_use_subcommand -a undo -d 'Give back everything vfio-boot changed'
complete -c vfio-boot -n '__fish_seen_subcommand_from iommu; and not __fish_seen_subcommand_from on off' -a 'on off'
complete -c vfio-boot -n '__fish_seen_subcommand_from bind' -a '(__vfio_utils_devices host)' -d Device
complete -c vfio-boot -n '__fish_seen_subcommand_from unbind' -a '(__vfio_boot_bound)' -d 'Given to vfio-pci at boot'
complete -c vfio-boot -s n -l dry-run -d 'Print the changes and the commands, change nothing'
complete -c vfio-boot -l json -d 'Report as JSON'
complete -c vfio-boot -l sysroot -r -a '(__fish_complete_directories)' -d 'Look up system trees below DIR'
complete -c vfio-boot -s v -l verbose -d 'Log each action'
complete -c vfio-boot -s q -l quiet -d 'Print errors only'
complete -c vfio-boot -s h -l help -d 'Show help'
complete -c vfio-boot -s V -l version -d 'Show version'
