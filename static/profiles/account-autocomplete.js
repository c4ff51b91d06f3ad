'use strict';
// A container's profile, guidelines and budget lists: they ask the server for the records of the
// account typed in (or shown on) the form, and forget a choice when the account changes.
{
    const $ = django.jQuery;

    function account(element) {
        const field = document.getElementById(element.dataset.accountField);
        return field ? field.value.trim() : '';
    }

    function name(element) {
        // The list's box is a combobox named after the field's label.
        const label = document.querySelector(`label[for="${element.id}"]`);
        const container = element.nextElementSibling;
        if (!label || !container) {
            return;
        }
        const text = label.textContent.replace(/:\s*$/, '').trim();
        container.querySelectorAll('.select2-selection, .select2-selection__rendered').forEach((box) => {
            box.setAttribute('aria-label', text);
        });
    }

    function init(element) {
        $(element).select2({
            ajax: {
                data: (params) => ({
                    term: params.term,
                    page: params.page,
                    app_label: element.dataset.appLabel,
                    model_name: element.dataset.modelName,
                    field_name: element.dataset.fieldName,
                    account_id: account(element)
                })
            }
        });
    }

    $(function() {
        const selects = document.querySelectorAll('.fr-account-autocomplete');
        selects.forEach((element) => {
            init(element);
            name(element);
        });
        const fields = new Set(Array.from(selects, (element) => element.dataset.accountField));
        fields.forEach((id) => {
            const field = document.getElementById(id);
            if (field) {
                field.addEventListener('change', () => {
                    selects.forEach((element) => $(element).val(null).trigger('change'));
                });
            }
        });
    });
}
