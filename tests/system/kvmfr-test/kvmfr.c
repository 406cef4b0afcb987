// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A stand-in for Looking Glass's kvmfr, written for winvm's system test: the same module
 * name, the same parameter (static_size_mb, one size in MiB per device), the same devices
 * (/dev/kvmfrN in class "kvmfr") and mmap of a static buffer, which is all that winvmd and a
 * QEMU memory-backend-file use. No DMA-BUF ioctls: nothing under test calls them.
 * `maps` (a read-only parameter) counts the mmaps so the test can see QEMU really map it.
 */
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/vmalloc.h>

#define KVMFR_MAX_DEVICES 10

static unsigned int static_size_mb[KVMFR_MAX_DEVICES];
static int static_count;
module_param_array(static_size_mb, uint, &static_count, 0444);
MODULE_PARM_DESC(static_size_mb, "List of static devices to create in MiB");

static atomic_t maps = ATOMIC_INIT(0);
static int maps_get(char *buf, const struct kernel_param *kp)
{
        return sysfs_emit(buf, "%d\n", atomic_read(&maps));
}
static const struct kernel_param_ops maps_ops = { .get = maps_get };
module_param_cb(maps, &maps_ops, NULL, 0444);
MODULE_PARM_DESC(maps, "How many times a device was mapped (test only)");

struct kvmfr_dev {
        void *buf;
        size_t size;
};

static struct kvmfr_dev devs[KVMFR_MAX_DEVICES];
static struct class *kvmfr_class;
static struct cdev kvmfr_cdev;
static dev_t kvmfr_base;

static int kvmfr_open(struct inode *inode, struct file *file)
{
        file->private_data = &devs[iminor(inode)];
        return 0;
}

static loff_t kvmfr_llseek(struct file *file, loff_t offset, int whence)
{
        struct kvmfr_dev *dev = file->private_data;

        return fixed_size_llseek(file, offset, whence, dev->size);
}

static int kvmfr_mmap(struct file *file, struct vm_area_struct *vma)
{
        struct kvmfr_dev *dev = file->private_data;
        unsigned long len = vma->vm_end - vma->vm_start;
        int r;

        if ((vma->vm_pgoff << PAGE_SHIFT) + len > dev->size)
                return -EINVAL;
        r = remap_vmalloc_range(vma, dev->buf, vma->vm_pgoff);
        if (r == 0)
                atomic_inc(&maps);
        return r;
}

static const struct file_operations kvmfr_fops = {
        .owner = THIS_MODULE,
        .open = kvmfr_open,
        .llseek = kvmfr_llseek,
        .mmap = kvmfr_mmap,
};

static void kvmfr_cleanup(int created)
{
        int i;

        for (i = 0; i < created; i++) {
                device_destroy(kvmfr_class, MKDEV(MAJOR(kvmfr_base), i));
                vfree(devs[i].buf);
        }
}

static int __init kvmfr_init(void)
{
        int i, r;

        r = alloc_chrdev_region(&kvmfr_base, 0, KVMFR_MAX_DEVICES, "kvmfr");
        if (r < 0)
                return r;
        cdev_init(&kvmfr_cdev, &kvmfr_fops);
        r = cdev_add(&kvmfr_cdev, kvmfr_base, KVMFR_MAX_DEVICES);
        if (r < 0)
                goto out_region;
        kvmfr_class = class_create(THIS_MODULE, "kvmfr");
        if (IS_ERR(kvmfr_class)) {
                r = PTR_ERR(kvmfr_class);
                goto out_cdev;
        }
        for (i = 0; i < static_count; i++) {
                struct device *d;

                devs[i].size = (size_t)static_size_mb[i] << 20;
                devs[i].buf = vmalloc_user(devs[i].size);
                if (!devs[i].buf) {
                        r = -ENOMEM;
                        goto out_devs;
                }
                d = device_create(kvmfr_class, NULL, MKDEV(MAJOR(kvmfr_base), i), NULL, "kvmfr%d", i);
                if (IS_ERR(d)) {
                        vfree(devs[i].buf);
                        r = PTR_ERR(d);
                        goto out_devs;
                }
        }
        pr_info("kvmfr (winvm test module): %d static device(s)\n", static_count);
        return 0;

out_devs:
        kvmfr_cleanup(i);
        class_destroy(kvmfr_class);
out_cdev:
        cdev_del(&kvmfr_cdev);
out_region:
        unregister_chrdev_region(kvmfr_base, KVMFR_MAX_DEVICES);
        return r;
}

static void __exit kvmfr_exit(void)
{
        kvmfr_cleanup(static_count);
        class_destroy(kvmfr_class);
        cdev_del(&kvmfr_cdev);
        unregister_chrdev_region(kvmfr_base, KVMFR_MAX_DEVICES);
}

module_init(kvmfr_init);
module_exit(kvmfr_exit);
MODULE_DESCRIPTION("kvmfr stand-in for winvm's system test");
MODULE_LICENSE("GPL");
