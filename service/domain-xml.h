/* Reading facts out of a libvirt domain XML with libxml2 XPath. Pure: takes the XML text. */
#pragma once

/* The file-backed disk images of the domain (<disk type='file' device='disk'> sources), in
 * document order, NULL-terminated. -EINVAL when the XML does not parse. */
int domain_xml_disk_files(const char *xml, char ***ret_files);
