/* test_files.c - the element kinds' file tables, as fs/ and the op layer read them. */
#include <criterion/criterion.h>
#include <string.h>

#include "elements/anchor.h"
#include "elements/element.h"
#include "elements/op.h"

/* Every listed file name is one SPEC reserves, so no anchor can shadow it, and every
 * file can be opened some way. */
Test(files, every_listed_name_is_reserved)
{
	for (size_t i = 0; i < ELEM_NKINDS; i++) {
		const struct elem_kind *k = elem_kinds[i];
		if (k == NULL)
			continue;
		for (const struct op_file *f = k->files; f->name != NULL; f++) {
			cr_expect(f->flags & (OPF_READ | OPF_WRITE), "%s %s: no direction",
			    k->name, f->name);
			if (!(f->flags & OPF_HIDDEN))
				cr_expect(anchor_name_reserved(f->name), "%s %s: not reserved",
				    k->name, f->name);
		}
	}
}

/* fs/ asks by name alone: a name must mean the same in every kind that has it. */
Test(files, a_name_means_the_same_in_every_kind)
{
	for (size_t i = 0; i < ELEM_NKINDS; i++) {
		const struct elem_kind *k = elem_kinds[i];
		if (k == NULL)
			continue;
		for (const struct op_file *f = k->files; f->name != NULL; f++) {
			const struct op_file *g = op_file_find(f->name);
			cr_assert_not_null(g, "%s", f->name);
			cr_expect_eq(g->flags, f->flags, "%s %s: 0x%x here, 0x%x elsewhere",
			    k->name, f->name, f->flags, g->flags);
		}
	}
}

Test(files, find_and_modes)
{
	const struct op_file *send = op_file_find("send"), *ctl = op_file_find("ctl");

	cr_assert_not_null(send);
	cr_expect_eq(send->flags, OPF_WRITE | OPF_STREAM);
	cr_expect(op_file_mode_ok(send, OP_WRONLY));
	cr_expect(!op_file_mode_ok(send, OP_RDONLY));
	cr_expect(!op_file_mode_ok(send, OP_RDWR));
	cr_assert_not_null(ctl);
	cr_expect(op_file_mode_ok(ctl, OP_RDWR));
	cr_expect(!op_file_mode_ok(ctl, 3));
	cr_expect_eq(op_file_find("error")->flags, OPF_READ);
	cr_expect_eq(op_file_find("stdout")->flags, OPF_READ | OPF_STREAM);
	cr_expect_null(op_file_find("nope"));
	cr_expect_null(op_file_find(NULL));
}
